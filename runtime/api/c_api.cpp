// The C API (terra.h) over the C++ runtime: handles own the C++ objects, errors become a status
// plus a per-thread message, and no exception crosses the boundary.
#include "api/terra.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "runner/beam_search.h"
#include "runner/generator.h"
#include "decoder/session.h"
#include "model/model.h"
#include "platform/platform.h"
#include "sampler/sampler.h"
#include "tokenizer/tokenizer.h"

struct terra_model {
  std::unique_ptr<terra::Model> model;
  std::unique_ptr<terra::Tokenizer> tokenizer;
};

struct terra_session {
  const terra_model* model;
  std::unique_ptr<terra::Generator> generator;  // owns the session
  terra::Session& session() { return generator->session(); }
  const terra::Session& session() const { return generator->session(); }
};

namespace {
using terra::ErrorCode;
using terra::Status;

thread_local std::string last_error;

terra_status fail(terra_status code, std::string message) {
  last_error = std::move(message);
  return code;
}

terra_status fail(const Status& s) {
  switch (s.code()) {
    case ErrorCode::kOk: return TERRA_OK;
    case ErrorCode::kInvalidArgument: return fail(TERRA_ERROR_INVALID_ARGUMENT, s.message());
    case ErrorCode::kIo: return fail(TERRA_ERROR_IO, s.message());
    case ErrorCode::kCorruptModel: return fail(TERRA_ERROR_CORRUPT_MODEL, s.message());
    case ErrorCode::kUnsupported: return fail(TERRA_ERROR_UNSUPPORTED, s.message());
    case ErrorCode::kOutOfRange: return fail(TERRA_ERROR_OUT_OF_RANGE, s.message());
    case ErrorCode::kOutOfMemory: return fail(TERRA_ERROR_OUT_OF_MEMORY, s.message());
  }
  return fail(TERRA_ERROR_INTERNAL, s.message());
}

terra_status null_argument(const char* function, const char* name) {
  return fail(TERRA_ERROR_INVALID_ARGUMENT, std::string(function) + ": " + name + " is NULL");
}

// Runs body, turning an escaped exception (allocation failure at load or creation) into a status.
template <typename F>
terra_status guarded(F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail(TERRA_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(TERRA_ERROR_INTERNAL, e.what());
  } catch (...) {
    return fail(TERRA_ERROR_INTERNAL, "unknown error");
  }
}

terra_status finish_load(terra::Result<std::unique_ptr<terra::Model>> loaded, terra_model** out) {
  if (!loaded.ok()) return fail(loaded.status());
  auto handle = std::make_unique<terra_model>();
  handle->model = loaded.take();
  auto tokenizer = terra::Tokenizer::create(handle->model->tokenizer(), handle->model->config().vocab_size);
  if (!tokenizer.ok()) return fail(tokenizer.status());
  handle->tokenizer = tokenizer.take();
  *out = handle.release();
  return TERRA_OK;
}

terra::SessionOptions session_options(const terra_session_options& o) {
  terra::SessionOptions so;
  so.threads = o.threads;
  so.max_context = o.max_context;
  so.max_input = o.max_input;
  so.pin_threads = o.pin_threads != 0;
  so.max_memory = o.max_memory;
  return so;
}

// terra_generate's callback behind the runner's sink.
struct CallbackSink {
  terra_token_callback callback;
  void* user;
  int* generated;
};
bool forward_token(void* p, int token, const std::string& text) {
  auto* sink = static_cast<CallbackSink*>(p);
  if (sink->generated != nullptr) ++*sink->generated;
  return sink->callback == nullptr || sink->callback(sink->user, token, text.data(), text.size()) == 0;
}
}  // namespace

extern "C" {

const char* terra_version(void) { return "0.1.0"; }
const char* terra_last_error(void) { return last_error.c_str(); }

const char* terra_status_name(terra_status status) {
  switch (status) {
    case TERRA_OK: return "TERRA_OK";
    case TERRA_ERROR_INVALID_ARGUMENT: return "TERRA_ERROR_INVALID_ARGUMENT";
    case TERRA_ERROR_IO: return "TERRA_ERROR_IO";
    case TERRA_ERROR_CORRUPT_MODEL: return "TERRA_ERROR_CORRUPT_MODEL";
    case TERRA_ERROR_UNSUPPORTED: return "TERRA_ERROR_UNSUPPORTED";
    case TERRA_ERROR_OUT_OF_RANGE: return "TERRA_ERROR_OUT_OF_RANGE";
    case TERRA_ERROR_OUT_OF_MEMORY: return "TERRA_ERROR_OUT_OF_MEMORY";
    case TERRA_ERROR_INTERNAL: return "TERRA_ERROR_INTERNAL";
  }
  return "TERRA_ERROR_UNKNOWN";
}

terra_status terra_model_load(const char* path, terra_model** out) {
  return terra_model_load_with_options(path, nullptr, out);
}

terra_model_options terra_model_default_options(void) {
  terra_model_options o;
  o.copy = 0;
  return o;
}

terra_status terra_model_load_with_options(const char* path, const terra_model_options* options, terra_model** out) {
  if (path == nullptr) return null_argument("terra_model_load", "path");
  if (out == nullptr) return null_argument("terra_model_load", "out");
  *out = nullptr;
  const terra_model_options o = options ? *options : terra_model_default_options();
  terra::LoadOptions load;
  load.copy = o.copy != 0;
  return guarded([&] { return finish_load(terra::Model::load(std::string(path), load), out); });
}

terra_status terra_model_load_fd(int fd, int64_t offset, int64_t size, terra_model** out) {
  if (out == nullptr) return null_argument("terra_model_load_fd", "out");
  *out = nullptr;
  if (offset < 0 || size <= 0) {
    return fail(TERRA_ERROR_INVALID_ARGUMENT, "terra_model_load_fd: offset " + std::to_string(offset) + ", size " +
                                                  std::to_string(size) + ": need offset >= 0 and size > 0");
  }
  return guarded([&] {
    const std::string name = "descriptor " + std::to_string(fd) + " at " + std::to_string(offset);
    auto mapped = terra::platform::MappedFile::open_descriptor(fd, uint64_t(offset), uint64_t(size), name);
    if (!mapped.ok()) return fail(mapped.status());
    return finish_load(terra::Model::load(mapped.take()), out);
  });
}

void terra_model_free(terra_model* model) { delete model; }
int terra_model_vocab_size(const terra_model* m) { return m ? m->model->config().vocab_size : 0; }
int terra_model_max_length(const terra_model* m) { return m ? m->model->config().max_len : 0; }
int terra_model_has_encoder(const terra_model* m) { return m && m->model->config().n_encoder_layers > 0; }
int terra_model_start_token(const terra_model* m) { return m ? m->tokenizer->start_id() : -1; }
int terra_model_end_token(const terra_model* m) { return m ? m->tokenizer->end_id() : -1; }

terra_status terra_tokenize(const terra_model* model, const char* text, int32_t* ids, size_t capacity, size_t* count) {
  if (model == nullptr) return null_argument("terra_tokenize", "model");
  if (text == nullptr) return null_argument("terra_tokenize", "text");
  if (count == nullptr) return null_argument("terra_tokenize", "count");
  if (ids == nullptr && capacity > 0) return null_argument("terra_tokenize", "ids");
  return guarded([&] {
    auto encoded = model->tokenizer->encode(text);
    if (!encoded.ok()) return fail(encoded.status());
    const std::vector<int>& v = encoded.value();
    *count = v.size();
    std::copy_n(v.begin(), std::min(v.size(), capacity), ids);
    if (v.size() > capacity) {
      return fail(TERRA_ERROR_OUT_OF_RANGE, "terra_tokenize: the text is " + std::to_string(v.size()) +
                                                " tokens, the buffer holds " + std::to_string(capacity));
    }
    return TERRA_OK;
  });
}

terra_status terra_detokenize(const terra_model* model, const int32_t* ids, size_t count, char* text, size_t capacity,
                              size_t* length) {
  if (model == nullptr) return null_argument("terra_detokenize", "model");
  if (ids == nullptr && count > 0) return null_argument("terra_detokenize", "ids");
  if (length == nullptr) return null_argument("terra_detokenize", "length");
  if (text == nullptr && capacity > 0) return null_argument("terra_detokenize", "text");
  return guarded([&] {
    const int vocab = model->model->config().output_vocab();
    std::string out;
    terra::TextDecoder decoder(*model->tokenizer);
    decoder.reset(true);  // ids decoded alone: a leading word-start marker separates nothing
    for (size_t i = 0; i < count; ++i) {
      if (ids[i] < 0 || ids[i] >= vocab) {
        return fail(TERRA_ERROR_INVALID_ARGUMENT, "terra_detokenize: id " + std::to_string(ids[i]) + " at " +
                                                      std::to_string(i) + " is outside the vocabulary [0, " +
                                                      std::to_string(vocab) + ")");
      }
      decoder.push(ids[i], &out);
    }
    decoder.finish(&out);
    *length = out.size();
    if (out.size() + 1 > capacity) {
      if (capacity > 0) text[0] = '\0';
      return fail(TERRA_ERROR_OUT_OF_RANGE, "terra_detokenize: the text is " + std::to_string(out.size()) +
                                                " bytes plus its NUL, the buffer holds " + std::to_string(capacity));
    }
    std::memcpy(text, out.data(), out.size());
    text[out.size()] = '\0';
    return TERRA_OK;
  });
}

terra_session_options terra_session_default_options(void) {
  terra_session_options o;
  o.threads = 1;
  o.max_context = 0;
  o.max_input = 0;
  o.pin_threads = 0;
  o.max_memory = 0;
  return o;
}

terra_status terra_session_create(const terra_model* model, const terra_session_options* options, terra_session** out) {
  if (model == nullptr) return null_argument("terra_session_create", "model");
  if (out == nullptr) return null_argument("terra_session_create", "out");
  *out = nullptr;
  const terra_session_options o = options ? *options : terra_session_default_options();
  return guarded([&] {
    auto created = terra::Generator::create(*model->model, *model->tokenizer, session_options(o));
    if (!created.ok()) return fail(created.status());
    auto handle = std::make_unique<terra_session>();
    handle->model = model;
    handle->generator = created.take();
    *out = handle.release();
    return TERRA_OK;
  });
}

void terra_session_free(terra_session* session) { delete session; }
int terra_session_max_context(const terra_session* s) { return s ? s->session().max_context() : 0; }
size_t terra_session_memory_bytes(const terra_session* s) { return s ? s->session().arena_bytes() : 0; }

terra_generate_options terra_generate_default_options(void) {
  terra_generate_options o;
  const terra::SamplerOptions d;
  o.max_tokens = 64;
  o.sampling.temperature = d.temperature;
  o.sampling.top_k = d.top_k;
  o.sampling.top_p = d.top_p;
  o.sampling.seed = 0;
  o.stop_at_end = 1;
  o.input = nullptr;
  o.stop = nullptr;
  return o;
}

terra_status terra_generate(terra_session* session, const char* prompt, const terra_generate_options* options,
                            terra_token_callback callback, void* user, int* generated) {
  if (generated != nullptr) *generated = 0;
  if (session == nullptr) return null_argument("terra_generate", "session");
  if (prompt == nullptr) return null_argument("terra_generate", "prompt");
  const terra_generate_options o = options ? *options : terra_generate_default_options();
  if (o.max_tokens < 0) {
    return fail(TERRA_ERROR_INVALID_ARGUMENT, "max_tokens = " + std::to_string(o.max_tokens) + ": must be >= 0");
  }
  return guarded([&] {
    const terra::Tokenizer& tokenizer = *session->model->tokenizer;
    const bool encoder_decoder = session->model->model->config().n_encoder_layers > 0;
    if (encoder_decoder != (o.input != nullptr)) {
      return fail(TERRA_ERROR_INVALID_ARGUMENT, encoder_decoder
                                                    ? "terra_generate: this is an encoder-decoder model: set input"
                                                    : "terra_generate: this model has no encoder: input must be NULL");
    }
    std::vector<int> input;
    if (encoder_decoder) {
      auto ids = tokenizer.encode(o.input);
      if (!ids.ok()) return fail(ids.status());
      input = ids.take();
    }
    auto ids = terra::text_prompt(tokenizer, prompt);
    if (!ids.ok()) return fail(ids.status());
    terra::GenerationRequest request;
    request.input = input.data();
    request.input_count = input.size();
    request.prompt = ids.value().data();
    request.prompt_count = ids.value().size();
    request.max_tokens = o.max_tokens;
    request.stop_at_end = o.stop_at_end != 0;
    request.sampling.temperature = o.sampling.temperature;
    request.sampling.top_k = o.sampling.top_k;
    request.sampling.top_p = o.sampling.top_p;
    request.sampling.seed = o.sampling.seed;
    request.stop = o.stop;
    request.strip_leading_space = prompt[0] == '\0';
    CallbackSink sink{callback, user, generated};
    Status st = session->generator->run(request, forward_token, &sink, nullptr);
    if (!st.ok()) return fail(Status::Error(st.code(), "terra_generate: " + st.message()));
    return TERRA_OK;
  });
}

terra_status terra_beam_search(const terra_model* model, const terra_session_options* options, const int32_t* prompt,
                               size_t prompt_count, const int32_t* input, size_t input_count, int beams, int max_tokens,
                               int32_t* tokens, float* scores) {
  if (model == nullptr) return null_argument("terra_beam_search", "model");
  if (prompt == nullptr || prompt_count == 0) return null_argument("terra_beam_search", "prompt");
  if (input == nullptr && input_count > 0) return null_argument("terra_beam_search", "input");
  if (tokens == nullptr) return null_argument("terra_beam_search", "tokens");
  if (scores == nullptr) return null_argument("terra_beam_search", "scores");
  if (max_tokens < 1 || max_tokens > (1 << 24) || prompt_count > (size_t(1) << 24) || input_count > (size_t(1) << 24)) {
    return fail(TERRA_ERROR_INVALID_ARGUMENT, "terra_beam_search: max_tokens = " + std::to_string(max_tokens) +
                                                  ": must be in [1, 16777216]");
  }
  return guarded([&] {
    const terra_session_options o = options ? *options : terra_session_default_options();
    terra::SessionOptions so = session_options(o);
    if (so.max_context == 0) so.max_context = int(terra::positions_needed(input_count, prompt_count, max_tokens));
    if (so.max_input == 0) so.max_input = int(input_count);
    auto search = terra::BeamSearch::create(*model->model, so, beams);
    if (!search.ok()) return fail(search.status());
    auto result = search.value()->run(std::vector<int>(input, input + input_count),
                                      std::vector<int>(prompt, prompt + prompt_count), max_tokens);
    if (!result.ok()) return fail(result.status());
    for (size_t b = 0; b < result.value().size(); ++b) {
      std::copy(result.value()[b].tokens.begin(), result.value()[b].tokens.end(), tokens + b * size_t(max_tokens));
      scores[b] = result.value()[b].score;
    }
    return TERRA_OK;
  });
}

void terra_session_reset(terra_session* session) {
  if (session != nullptr) session->session().reset();
}

terra_status terra_session_step(terra_session* session, int32_t token) {
  if (session == nullptr) return null_argument("terra_session_step", "session");
  return guarded([&] { return fail(session->session().step(token)); });
}

const float* terra_session_logits(const terra_session* s) { return s ? s->session().logits() : nullptr; }
int terra_session_position(const terra_session* s) { return s ? s->session().position() : 0; }

}  // extern "C"
