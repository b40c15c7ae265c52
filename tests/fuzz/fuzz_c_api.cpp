// The C API driven as an app would be by untrusted users: fuzzed prompt text, sampling options,
// token counts and ids, on the shipped KJV model (TERRA_FUZZ_MODEL, default models/kjv-sparse.terra).
#include <cstdlib>
#include <cstring>

#include "api/terra.h"
#include "fuzz_input.h"

namespace {
terra_model* model = nullptr;
terra_session* session = nullptr;
int on_token(void*, int32_t, const char*, size_t) { return 0; }
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* path = std::getenv("TERRA_FUZZ_MODEL");
  if (terra_model_load(path ? path : "models/kjv-sparse.terra", &model) != TERRA_OK) std::abort();
  terra_session_options so = terra_session_default_options();
  so.max_context = 48;
  if (terra_session_create(model, &so, &session) != TERRA_OK) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  terra::fuzz::Reader r(data, size);
  terra_generate_options go = terra_generate_default_options();
  go.max_tokens = int(r.take<uint8_t>() % 40) - 4;  // some negative
  go.sampling.temperature = r.take<float>();
  go.sampling.top_k = r.take<int32_t>();
  go.sampling.top_p = r.take<float>();
  go.sampling.seed = r.take<uint64_t>();
  go.stop_at_end = r.take<uint8_t>() & 1;
  const int32_t step_token = r.take<int32_t>();
  const std::string prompt = r.rest();
  (void)terra_generate(session, prompt.c_str(), &go, on_token, nullptr, nullptr);

  int32_t ids[64];
  size_t count = 0;
  (void)terra_tokenize(model, prompt.c_str(), ids, 64, &count);  // count: what the text needs
  if (count > 64) count = 64;
  char text[512];
  size_t length = 0;
  (void)terra_detokenize(model, ids, count, text, sizeof text, &length);
  // Raw ids from the input, valid or not.
  const size_t raw = prompt.size() / 4 < 16 ? prompt.size() / 4 : 16;
  int32_t raw_ids[16];
  std::memcpy(raw_ids, prompt.data(), raw * 4);
  (void)terra_detokenize(model, raw_ids, raw, text, sizeof text, &length);
  terra_session_reset(session);
  (void)terra_session_step(session, step_token);
  return 0;
}
