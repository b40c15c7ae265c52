#include "cli/bench_command.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bench/bandwidth_probe.h"
#include "bench/fma_probe.h"
#include "decoder/session.h"
#include "runner/generator.h"
#include "tokenizer/tokenizer.h"
#include "kernels/kernel_set.h"
#include "model/footprint.h"
#include "cli/report.h"
#include "platform/platform.h"

namespace terra::cli {

namespace {

struct Stats {
  double median = 0, min = 0, max = 0;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

}  // namespace

int run_bench(const BenchArgs& a) {
  // (main.cpp bounds each length to [1, 2^24], so their sum fits an int.)
  const double t0 = platform::monotonic_seconds();
  auto model = Model::load(a.model_path, a.load);
  if (!model.ok()) return fail(model.status());
  const ModelConfig& c = model.value()->config();
  if (a.input_len > 0 && c.n_encoder_layers == 0) {
    return fail(Status::Error(ErrorCode::kInvalidArgument, "--input-len: this model has no encoder"));
  }
  const int input_len = c.n_encoder_layers == 0 ? 0 : a.input_len > 0 ? a.input_len : a.prompt_len;
  auto tokenizer = Tokenizer::create(model.value()->tokenizer(), c.vocab_size);
  if (!tokenizer.ok()) return fail(tokenizer.status());
  // Each run decodes gen_len tokens after the prompt: gen_len + 1 are sampled, the last not fed.
  const int sampled = a.gen_len + 1;
  SessionOptions options;
  options.max_context = int(positions_needed(size_t(input_len), size_t(a.prompt_len), sampled));
  options.threads = a.threads;
  options.max_input = input_len;
  options.pin_threads = a.pin;
  options.max_memory = a.max_memory;
  options.engine = a.engine;
  auto generator = Generator::create(*model.value(), *tokenizer.value(), options);
  if (!generator.ok()) return fail(generator.status());
  const Session& s = generator.value()->session();
  const double load_ms = (platform::monotonic_seconds() - t0) * 1e3;

  // Random token ids (not the special ones 0 and 1 where the vocabulary has others): speed does not
  // depend on the text.
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> token(std::min(2, c.output_vocab() - 1), c.output_vocab() - 1);
  std::uniform_int_distribution<int> input_token(std::min(2, c.vocab_size - 1), c.vocab_size - 1);  // never 0: padding
  std::vector<int> prompt(static_cast<size_t>(a.prompt_len)), input(static_cast<size_t>(input_len));
  for (int& t : prompt) t = token(rng);
  for (int& t : input) t = input_token(rng);
  GenerationRequest request;
  request.input = input.data();
  request.input_count = input.size();
  request.prompt = prompt.data();
  request.prompt_count = prompt.size();
  request.max_tokens = sampled;
  request.stop_at_end = false;
  request.sampling.temperature = 0;  // greedy: as cheap as sampling gets

  // The probe's buffer is resident in full from its creation to the end, so the model's own peak
  // RSS is the larger of the peak before it and the final peak less the buffer.
  std::unique_ptr<BandwidthProbe> probe;
  size_t rss_before_probe = 0;
  std::vector<double> ttft_ms, prefill_tps, decode_tps, ms_per_token, probe_gbps, ratios, encode_ms;
  std::vector<double> prompt_gflops, fma_gflops, compute_ratios;
  const Footprint fp = weight_footprint(model.value()->file());
  // The weight products of the prompt (and the encoder's input), 2 flops per multiply-add.
  const double prompt_flops =
      2.0 * (double(fp.prompt_macs_per_token) * a.prompt_len + double(fp.input_macs_per_token) * input_len);
  for (int r = -a.warmup; r < a.repeat; ++r) {
    const bool timed = r >= 0;
    if (timed) std::fprintf(stderr, "\rbench: repeat %d/%d ...", r + 1, a.repeat);
    else std::fprintf(stderr, "\rbench: warm-up ...");
    std::fflush(stderr);
    if (a.probe && r == -a.warmup) {
      rss_before_probe = platform::peak_rss_bytes();
      auto created = BandwidthProbe::create(s.pool());
      if (!created.ok()) return fail(created.status());
      probe = std::move(created).value();
    }
    if (probe && timed) {
      probe_gbps.push_back(probe->measure(3));  // right before the decode it is compared with
      fma_gflops.push_back(measure_fma_peak(s.pool()));
    }
    GenerationStats run;
    Status st = generator.value()->run(request, nullptr, nullptr, &run);
    if (!st.ok()) return fail(st);
    if (!timed) continue;
    const double first_token = run.encode_seconds + run.prefill_seconds;
    ttft_ms.push_back(first_token * 1e3);
    encode_ms.push_back(run.encode_seconds * 1e3);
    prefill_tps.push_back(a.prompt_len / first_token);
    prompt_gflops.push_back(prompt_flops / first_token / 1e9);
    if (probe) compute_ratios.push_back(prompt_gflops.back() / fma_gflops.back());
    decode_tps.push_back(a.gen_len / run.decode_seconds);
    ms_per_token.push_back(run.decode_seconds * 1e3 / a.gen_len);
    if (probe) ratios.push_back(double(fp.weight_bytes_per_token) * decode_tps.back() / 1e9 / probe_gbps.back());
  }
  size_t peak_rss = platform::peak_rss_bytes();
  if (probe) peak_rss = std::max(rss_before_probe, peak_rss - std::min(peak_rss, probe->bytes()));
  const double rss_mib = double(peak_rss) / (1 << 20);
  probe.reset();
  std::fprintf(stderr, "\r%60s\r", "");

  const Stats decode = stats(decode_tps), ms = stats(ms_per_token), ttft = stats(ttft_ms), pre = stats(prefill_tps);
  const double effective_gbps = double(fp.weight_bytes_per_token) * decode.median / 1e9;
  // The ratio pairs each repeat with the probe read just before it, so slow drifts of the machine
  // cancel; its median is reported.
  const double probe_median = probe_gbps.empty() ? 0 : stats(probe_gbps).median;
  const Stats ratio_stats = ratios.empty() ? Stats{} : stats(ratios);
  const double ratio = ratio_stats.median;
  const double gflops = stats(prompt_gflops).median;
  const double encode = stats(encode_ms).median;
  const double fma_peak = fma_gflops.empty() ? 0 : stats(fma_gflops).median;
  const double compute_ratio = compute_ratios.empty() ? 0 : stats(compute_ratios).median;
  const double file_mib = double(model.value()->file().file_size()) / (1 << 20);
  const double arena_mib = double(s.arena_bytes()) / (1 << 20);

  if (a.json) {
    // Each repeat's probe reading and the decode speed measured right after it, for a reader who
    // wants more than the median ratio.
    std::string pairs;
    for (size_t i = 0; i < probe_gbps.size(); ++i) {
      char one[96];
      std::snprintf(one, sizeof(one), "%s{\"probe_gbps\": %.3f, \"ms_per_token\": %.4f}", i ? ", " : "", probe_gbps[i],
                    ms_per_token[i]);
      pairs += one;
    }
    std::printf(
        "{\"model\": \"%s\", \"threads\": %d, \"input_len\": %d, \"prompt_len\": %d, \"gen_len\": %d, \"repeat\": %d, "
        "\"load_ms\": %.2f, \"encode_ms\": %.3f, \"ttft_ms\": %.3f, \"prefill_tokens_per_s\": %.3f, \"prefill_gflops\": %.2f, "
        "\"fma_peak_gflops\": %.2f, \"compute_ratio\": %.4f, "
        "\"decode_tokens_per_s\": {\"median\": %.4f, \"min\": %.4f, \"max\": %.4f}, \"ms_per_token\": %.4f, "
        "\"weight_bytes_per_token\": %llu, \"effective_gbps\": %.3f, \"probe_gbps\": %.3f, "
        "\"bandwidth_ratio\": %.4f, \"peak_rss_mib\": %.1f, \"file_mib\": %.1f, \"arena_mib\": %.1f, "
        "\"kernels\": \"%s\", \"engine\": \"%s\", \"pinned_threads\": %zu, \"solo_periods\": %llu, "
        "\"bandwidth_ratio_range\": [%.4f, %.4f], \"pairs\": [%s]}\n",
        a.model_path.c_str(), a.threads, input_len, a.prompt_len, a.gen_len, a.repeat, load_ms, encode, ttft.median, pre.median, gflops,
        fma_peak, compute_ratio, decode.median, decode.min, decode.max, ms.median, (unsigned long long)fp.weight_bytes_per_token,
        effective_gbps, probe_median, ratio, rss_mib, file_mib, arena_mib, kernels().name, engine_name(s.engine()),
        s.pinned_threads(), (unsigned long long)s.pool().solo_periods(), ratio_stats.min, ratio_stats.max,
        pairs.c_str());
    return 0;
  }
  std::printf("| model | threads | load ms | TTFT ms (P=%d) | prefill tok/s | prefill GFLOP/s (of FMA peak) | decode tok/s (median [min, max], %d runs) "
              "| ms/token | MB/token | effective GB/s | probe GB/s | ratio | peak RSS MiB |\n",
              a.prompt_len, a.repeat);
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::printf("| %s | %d | %.1f | %.1f | %.1f | %.1f (%.2f of %.0f) | %.2f [%.2f, %.2f] | %.2f | %.2f | %.2f | %.2f | %.3f | %.0f |\n",
              a.model_path.c_str(), a.threads, load_ms, ttft.median, pre.median, gflops, compute_ratio, fma_peak, decode.median, decode.min, decode.max,
              ms.median, double(fp.weight_bytes_per_token) / 1e6, effective_gbps, probe_median, ratio, rss_mib);
  return 0;
}

}  // namespace terra::cli
