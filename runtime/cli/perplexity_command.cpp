#include "cli/perplexity_command.h"

#include <cstdio>

#include "decoder/perplexity.h"
#include "cli/report.h"
#include "platform/platform.h"
#include "tokenizer/tokenizer.h"

namespace terra::cli {

int run_perplexity(const PerplexityArgs& args) {
  auto text = platform::read_file(args.text_path, kMaxTextFileBytes);
  if (!text.ok()) return fail(text.status());

  auto model = Model::load(args.model_path, args.load);
  if (!model.ok()) return fail(model.status());
  auto tokenizer = Tokenizer::create(model.value()->tokenizer(), model.value()->config().vocab_size);
  if (!tokenizer.ok()) return fail(tokenizer.status());
  if (model.value()->config().n_encoder_layers > 0) {
    return fail(Status::Error(ErrorCode::kUnsupported, "perplexity is defined here for decoder-only models"));
  }
  auto ids = tokenizer.value()->encode(text.value());
  if (!ids.ok()) return fail(ids.status());
  if (args.window < 1 || args.window >= (1 << 24)) {
    return fail(Status::Error(ErrorCode::kInvalidArgument,
                              "--window " + std::to_string(args.window) + ": must be in [1, 16777215]"));
  }
  SessionOptions options;
  options.max_context = args.window + 1;
  options.threads = args.threads;
  options.max_memory = args.max_memory;
  options.scoring = !args.stepwise;
  auto session = Session::create(*model.value(), options);
  if (!session.ok()) return fail(session.status());

  const double start = platform::monotonic_seconds();
  auto r = evaluate_perplexity(*session.value(), ids.value(), args.window, tokenizer.value()->start_id(), args.stepwise);
  if (!r.ok()) return fail(r.status());
  const double seconds = platform::monotonic_seconds() - start;
  const PerplexityResult& p = r.value();
  if (args.json) {
    std::printf("{\"tokens\": %lld, \"window\": %d, \"nll_per_token\": %.9f, \"perplexity\": %.9f, \"seconds\": %.3f}\n",
                (long long)p.tokens, args.window, p.nll_per_token, p.perplexity, seconds);
  } else {
    std::printf("%s: %lld tokens (window %d): %.6f nats/token, perplexity %.4f (%.1f tokens/s)\n",
                args.text_path.c_str(), (long long)p.tokens, args.window, p.nll_per_token, p.perplexity,
                double(p.tokens) / seconds);
  }
  return 0;
}

}  // namespace terra::cli
