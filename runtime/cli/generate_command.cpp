#include "cli/generate_command.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "cli/report.h"
#include "runner/beam_search.h"
#include "runner/generator.h"
#include "kernels/kernel_set.h"
#include "platform/platform.h"
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

namespace {
// Streams the generated text after the prompt's (printed with the first token, so a request that
// fails prints nothing but its error).
struct Printer {
  bool ids;  // print token ids instead of text
  const std::string* prompt;
  std::vector<int>* generated;
  bool started = false;
  void start() {
    if (!started && !ids) std::fputs(prompt->c_str(), stdout);
    started = true;
  }
};
bool print_token(void* user, int token, const std::string& text) {
  auto* p = static_cast<Printer*>(user);
  p->start();
  p->generated->push_back(token);
  if (p->ids) {
    std::printf("%s%d", p->generated->size() > 1 ? " " : "", token);
  } else {
    std::fwrite(text.data(), 1, text.size(), stdout);
  }
  std::fflush(stdout);
  return true;
}
}  // namespace

int run_generate(const GenerateArgs& args) {
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
    auto ids = text_prompt(tokenizer, args.prompt);
    if (!ids.ok()) return fail(ids.status());
    prompt = ids.take();
  }
  const bool print_ids = args.ids_given || !tokenizer.has_text();
  SessionOptions options = args.session;
  if (options.max_context == 0) {
    // Plan exactly what this run needs: the arena (KV caches above all) stays as small as it can.
    const uint64_t needed = positions_needed(input.size(), prompt.size(), args.n_tokens);
    if (needed > uint64_t(1) << 24) {
      return fail(Status::Error(ErrorCode::kOutOfRange, "the input, prompt and -n need " + std::to_string(needed) +
                                                            " positions, more than a session can hold"));
    }
    options.max_context = int(needed);
  }
  options.max_input = int(input.size());
  if (args.beams > 0) return run_beam_search(args, *model.value(), tokenizer, options, input, prompt);
  auto generator = Generator::create(*model.value(), tokenizer, options);
  if (!generator.ok()) return fail(generator.status());
  const double load_seconds = platform::monotonic_seconds() - t_load;

  GenerationRequest request;
  request.input = input.data();
  request.input_count = input.size();
  request.prompt = prompt.data();
  request.prompt_count = prompt.size();
  request.max_tokens = args.n_tokens;
  request.stop_at_end = !args.ignore_end;
  request.sampling = args.sampler;
  request.strip_leading_space = args.prompt.empty();
  if (!args.seed_given) {
    try {
      request.sampling.seed = std::random_device{}();
    } catch (const std::exception&) {  // no entropy source on this board: fall back to the clock
      request.sampling.seed = uint64_t(platform::monotonic_seconds() * 1e9);
    }
  }
  std::vector<int> generated_ids;
  generated_ids.reserve(size_t(args.n_tokens));
  Printer printer{print_ids, &args.prompt, &generated_ids};
  GenerationStats stats;
  Status st = generator.value()->run(request, print_token, &printer, &stats);
  if (!st.ok()) return fail(st);
  printer.start();
  std::fputc('\n', stdout);
  std::fflush(stdout);

  if (args.print_ids) {
    std::string json = "{\"prompt_ids\": [";
    for (size_t i = 0; i < prompt.size(); ++i) json += (i ? ", " : "") + std::to_string(prompt[i]);
    json += "], \"generated\": [";
    for (size_t i = 0; i < generated_ids.size(); ++i) json += (i ? ", " : "") + std::to_string(generated_ids[i]);
    std::fprintf(stderr, "%s]}\n", json.c_str());
  }
  const Session& s = generator.value()->session();
  std::fprintf(stderr, "\nload: %.1f ms | ", load_seconds * 1e3);
  if (encoder_decoder) {
    std::fprintf(stderr, "input: %zu tokens, %.1f ms | ", input.size(), stats.encode_seconds * 1e3);
  }
  std::fprintf(stderr,
               "prompt: %zu tokens, %.1f tokens/s | decode: %d tokens, %.1f tokens/s | "
               "threads: %zu, kernels: %s | seed: %llu | peak memory: %.1f MiB (arena %.1f MiB, model file %.1f MiB)\n",
               prompt.size(), double(prompt.size()) / stats.prefill_seconds, stats.generated,
               stats.decode_seconds > 0 ? double(stats.generated) / stats.decode_seconds : 0.0, s.threads(),
               kernels().name, (unsigned long long)request.sampling.seed, double(platform::peak_rss_bytes()) / (1 << 20),
               double(s.arena_bytes()) / (1 << 20), double(model.value()->file().file_size()) / (1 << 20));
  return 0;
}

}  // namespace terra::cli
