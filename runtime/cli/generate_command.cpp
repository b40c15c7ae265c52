#include "cli/generate_command.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "cli/report.h"
#include "decoder/beam_search.h"
#include "kernels/kernel_set.h"
#include "platform.h"
#include "tokenizer/tokenizer.h"

namespace terra::cli {

namespace {
// --input: a file's contents when it names one, else the text itself.
Result<std::string> input_text(const std::string& arg) {
  if (!platform::path_exists(arg)) return arg;
  return platform::read_file(arg, kMaxTextFileBytes);
}

// --ids "0 3 7 5" (spaces or commas): token ids, fed as given.
Result<std::vector<int>> parse_ids(const std::string& text) {
  std::vector<int> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == ',' || text[i] == '\t' || text[i] == '\n') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9' && j - i < 10) ++j;
    const bool ends = j == text.size() || text[j] == ' ' || text[j] == ',' || text[j] == '\t' || text[j] == '\n';
    if (j == i || !ends || std::stoll(text.substr(i, j - i)) > INT32_MAX) {
      return Status::Error(ErrorCode::kInvalidArgument,
                           "--ids: '" + text.substr(i, std::min<size_t>(20, text.size() - i)) + "' is not a token id");
    }
    ids.push_back(int(std::stoll(text.substr(i, j - i))));
    i = j;
  }
  return ids;
}
}  // namespace

// --beams: every beam's tokens (as ids, or text) and summed log-probability, best first.
int run_beam_search(const GenerateArgs& args, const Model& model, const Tokenizer& tokenizer,
                    const SessionOptions& options, const std::vector<int>& input, const std::vector<int>& prompt) {
  auto search = BeamSearch::create(model, options, args.beams);
  if (!search.ok()) return fail(search.status());
  auto beams = search.value()->run(input, prompt, std::max(args.n_tokens, 1));
  if (!beams.ok()) return fail(beams.status());
  const bool ids = args.ids_given || !tokenizer.has_text();
  for (size_t b = 0; b < beams.value().size(); ++b) {
    const BeamHypothesis& h = beams.value()[b];
    std::string text;
    if (ids) {
      for (size_t i = 0; i < h.tokens.size(); ++i) text += (i ? " " : "") + std::to_string(h.tokens[i]);
    } else {
      TextDecoder decoder(tokenizer);
      decoder.reset(args.prompt.empty());
      for (int t : h.tokens) decoder.push(t, &text);
      decoder.finish(&text);
    }
    std::printf("beam %zu (log-probability %.4f): %s\n", b, double(h.score), text.c_str());
  }
  return 0;
}

int run_generate(const GenerateArgs& args) {
  if (args.n_tokens < 0) {
    return fail(Status::Error(ErrorCode::kInvalidArgument, "-n " + std::to_string(args.n_tokens) + ": must be >= 0"));
  }
  const double t_load = platform::monotonic_seconds();
  auto model = Model::load(args.model_path, args.load);
  if (!model.ok()) return fail(model.status());
  const bool encoder_decoder = model.value()->config().n_encoder_layers > 0;
  const bool input_given = args.input_given || args.input_ids_given;
  if (encoder_decoder && !input_given) {
    return fail(Status::Error(ErrorCode::kInvalidArgument,
                              "this is an encoder-decoder model: give its input with --input TEXT_OR_FILE"));
  }
  if (!encoder_decoder && input_given) {
    return fail(Status::Error(ErrorCode::kInvalidArgument,
                              "this model has no encoder: give the text with --prompt instead of --input"));
  }

  auto made = Tokenizer::create(model.value()->tokenizer(), model.value()->config().vocab_size);
  if (!made.ok()) return fail(made.status());
  const Tokenizer& tokenizer = *made.value();
  std::vector<int> input;
  if (args.input_ids_given) {
    auto ids = parse_ids(args.input_ids);
    if (!ids.ok()) return fail(ids.status());
    input = ids.take();
  } else if (encoder_decoder) {
    auto text = input_text(args.input);
    if (!text.ok()) return fail(text.status());
    auto ids = tokenizer.encode(text.value());
    if (!ids.ok()) return fail(ids.status());
    input = ids.take();
  }
  std::vector<int> prompt;
  if (args.ids_given) {  // ids exactly as given: the caller includes the start id
    auto ids = parse_ids(args.ids);
    if (!ids.ok()) return fail(ids.status());
    prompt = ids.take();
    if (prompt.empty()) return fail(Status::Error(ErrorCode::kInvalidArgument, "--ids: no token ids given"));
  } else {
    if (!tokenizer.has_text()) {
      return fail(Status::Error(ErrorCode::kInvalidArgument,
                                "this model reads token ids, not text (it has no tokenizer): give --ids \"0 3 7 5\""));
    }
    prompt.push_back(tokenizer.start_id());  // trax predict mode starts from id 0 at position 0
    auto prompt_ids = tokenizer.encode(args.prompt);
    if (!prompt_ids.ok()) return fail(prompt_ids.status());
    for (int id : prompt_ids.value()) prompt.push_back(id);
  }
  const bool print_ids = args.ids_given || !tokenizer.has_text();
  // The last sampled token is printed but never fed back, so it needs no position.
  const size_t needed = input.size() + prompt.size() + size_t(std::max(args.n_tokens, 1)) - 1;
  SessionOptions options = args.session;
  if (options.max_context == 0) {
    // Plan exactly what this run needs: the arena (KV caches above all) stays as small as it can.
    if (needed > size_t(1) << 24) {
      return fail(Status::Error(ErrorCode::kOutOfRange, "the input, prompt and -n need " + std::to_string(needed) +
                                                            " positions, more than a session can hold"));
    }
    options.max_context = int(needed);
  } else if (needed > size_t(options.max_context)) {
    return fail(Status::Error(
        ErrorCode::kOutOfRange,
        "the input (" + std::to_string(input.size()) + " tokens) and prompt (" + std::to_string(prompt.size()) +
            " tokens with the start token) plus " + std::to_string(args.n_tokens) +
            " tokens to generate exceed the context of " + std::to_string(options.max_context) +
            " positions; shorten them, lower -n or raise --max-context"));
  }
  options.max_input = int(input.size());
  if (args.beams > 0) return run_beam_search(args, *model.value(), tokenizer, options, input, prompt);
  auto session = Session::create(*model.value(), options);
  if (!session.ok()) return fail(session.status());
  Session& s = *session.value();
  const double load_seconds = platform::monotonic_seconds() - t_load;

  SamplerOptions sampling = args.sampler;
  if (!args.seed_given) {
    try {
      sampling.seed = std::random_device{}();
    } catch (const std::exception&) {  // no entropy source on this board: fall back to the clock
      sampling.seed = uint64_t(platform::monotonic_seconds() * 1e9);
    }
  }
  auto sampler = Sampler::create(s.vocab_size(), sampling);
  if (!sampler.ok()) return fail(sampler.status());

  double encode_seconds = 0;
  if (encoder_decoder) {
    const double t_encode = platform::monotonic_seconds();
    Status st = s.encode(input.data(), input.size());
    if (!st.ok()) return fail(st);
    encode_seconds = platform::monotonic_seconds() - t_encode;
  }

  if (!print_ids) std::fputs(args.prompt.c_str(), stdout);
  std::fflush(stdout);
  const double t_prompt = platform::monotonic_seconds();
  Status st = s.prefill(prompt.data(), prompt.size());
  if (!st.ok()) return fail(st);
  const double prompt_seconds = platform::monotonic_seconds() - t_prompt;

  const double t_decode = platform::monotonic_seconds();
  int generated = 0;
  std::vector<int> generated_ids;
  generated_ids.reserve(size_t(args.n_tokens));
  std::string text;
  TextDecoder printable(tokenizer);
  printable.reset(args.prompt.empty());  // a first word-start marker separates nothing
  while (generated < args.n_tokens) {
    const int token = sampler.value()->sample(s.logits());
    ++generated;
    generated_ids.push_back(token);
    if (token == tokenizer.end_id() && !args.ignore_end) break;
    if (print_ids) {
      std::printf("%s%d", generated > 1 ? " " : "", token);
      std::fflush(stdout);
    } else {
      text.clear();
      printable.push(token, &text);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    }
    if (generated == args.n_tokens) break;  // no need to run the model for a token never sampled
    st = s.step(token);
    if (!st.ok()) return fail(st);
  }
  const double decode_seconds = platform::monotonic_seconds() - t_decode;
  text.clear();
  printable.finish(&text);
  text.push_back('\n');
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);

  if (args.print_ids) {
    std::string json = "{\"prompt_ids\": [";
    for (size_t i = 0; i < prompt.size(); ++i) json += (i ? ", " : "") + std::to_string(prompt[i]);
    json += "], \"generated\": [";
    for (size_t i = 0; i < generated_ids.size(); ++i) json += (i ? ", " : "") + std::to_string(generated_ids[i]);
    std::fprintf(stderr, "%s]}\n", json.c_str());
  }
  std::fprintf(stderr, "\nload: %.1f ms | ", load_seconds * 1e3);
  if (encoder_decoder) std::fprintf(stderr, "input: %zu tokens, %.1f ms | ", input.size(), encode_seconds * 1e3);
  std::fprintf(stderr,
               "prompt: %zu tokens, %.1f tokens/s | decode: %d tokens, %.1f tokens/s | "
               "threads: %zu, kernels: %s | seed: %llu | peak memory: %.1f MiB (arena %.1f MiB, model file %.1f MiB)\n",
               prompt.size(), double(prompt.size()) / prompt_seconds, generated,
               decode_seconds > 0 ? double(generated) / decode_seconds : 0.0, s.threads(), kernels().name,
               (unsigned long long)sampling.seed, double(platform::peak_rss_bytes()) / (1 << 20),
               double(s.arena_bytes()) / (1 << 20), double(model.value()->file().file_size()) / (1 << 20));
  return 0;
}

}  // namespace terra::cli
