// terra: the command-line front end. Each subcommand lives in its own file; this one only parses.
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <new>

#include "cli/bench_command.h"
#include "cli/generate_command.h"
#include "cli/info_command.h"
#include "cli/perplexity_command.h"
#include "kernels/matmul.h"

namespace terra {
// CLI11 prints an option's values in its help and errors: by name (an enum would stream as a char).
std::ostream& operator<<(std::ostream& out, MatmulEngine e) { return out << engine_name(e); }
}  // namespace terra

namespace {

// An unsigned 64-bit integer, written in decimal: no sign, no exponent, no wrap-around.
const CLI::Validator kUint64(
    [](std::string& s) -> std::string {
      if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) {
        return "'" + s + "' is not an integer in [0, 18446744073709551615]";
      }
      errno = 0;
      std::strtoull(s.c_str(), nullptr, 10);
      if (errno == ERANGE) return "'" + s + "' is larger than 18446744073709551615";
      return "";
    },
    "UINT64");
// Token counts and lengths: a session holds at most 2^24 positions.
const CLI::Range kLength(1, 1 << 24);

// --max-memory MIB and --no-mmap, shared by the commands that create a session.
void add_memory_options(CLI::App* cmd, uint64_t* max_memory_mib, terra::LoadOptions* load) {
  cmd->add_option("--max-memory", *max_memory_mib,
                  "largest session arena in MiB (default: half of this machine's memory)")
      ->check(kUint64);
  cmd->add_flag("--no-mmap", load->copy,
                "read the model into memory instead of mapping it (for files that may change while in use)");
}
// --engine: who runs the batched products (prompts, the encoder).
void add_engine_option(CLI::App* cmd, terra::MatmulEngine* engine) {
  const std::map<std::string, terra::MatmulEngine> names{
      {"auto", terra::MatmulEngine::kAuto}, {"native", terra::MatmulEngine::kNative}, {"xnnpack", terra::MatmulEngine::kXnnpack}};
  cmd->add_option("--engine", *engine, "batched products (prompt, encoder): auto (XNNPACK for blocks of 64 tokens or more, where it runs), native, xnnpack (every block)")
      ->transform(CLI::CheckedTransformer(names, CLI::ignore_case));
}
uint64_t mib_to_bytes(uint64_t mib) { return mib > (UINT64_MAX >> 20) ? UINT64_MAX : mib << 20; }

int run(int argc, char** argv) {
  CLI::App app{"terra: run sparse Terraformer language models on the CPU"};
  app.require_subcommand(1);

  terra::cli::GenerateArgs gen;
  CLI::App* generate = app.add_subcommand("generate", "generate text from a prompt");
  generate->add_option("-m,--model", gen.model_path, "model file (.terra)")->required();
  CLI::Option* prompt = generate->add_option("-p,--prompt", gen.prompt, "prompt text (the decoder's start)");
  CLI::Option* ids = generate->add_option("--ids", gen.ids,
                                          "the prompt as token ids, e.g. \"0 3 7 5\", fed as given (no start id "
                                          "added); generated ids are printed");
  ids->excludes(prompt);
  CLI::Option* input_ids = generate->add_option("--input-ids", gen.input_ids,
                                                "encoder-decoder models: the input as token ids, e.g. \"3 7 5\"");
  generate->add_option("--beams", gen.beams,
                       "beam search with this many beams, as trax's decoding.beam_search (prints every beam)")
      ->check(CLI::Range(1, 64));
  CLI::Option* input = generate->add_option("-i,--input", gen.input,
                                            "encoder-decoder models: the input, as text or a file to read");
  input_ids->excludes(input);
  generate->add_option("-n,--n-tokens", gen.n_tokens, "tokens to generate")->check(CLI::Range(0, 1 << 24))->capture_default_str();
  generate->add_option("--temperature", gen.sampler.temperature, "0 = greedy")->capture_default_str();
  generate->add_option("--top-k", gen.sampler.top_k, "keep the k most likely tokens (0 = all)")->capture_default_str();
  generate->add_option("--top-p", gen.sampler.top_p, "nucleus probability mass")->capture_default_str();
  CLI::Option* seed = generate->add_option("--seed", gen.sampler.seed, "random seed (default: random)")->check(kUint64);
  generate->add_flag("--ignore-eos", gen.ignore_end, "do not stop at the end token");
  generate->add_flag("--print-ids", gen.print_ids, "print the prompt and generated token ids (JSON, stderr)");
  generate->add_option("-t,--threads", gen.session.threads, "threads")->capture_default_str();
  generate->add_flag("--pin", gen.session.pin_threads, "pin threads to the fastest cores");
  add_engine_option(generate, &gen.session.engine);
  generate->add_option("-c,--max-context", gen.session.max_context,
                       "positions the session plans for (0 = exactly what input, prompt and -n need)")
      ->capture_default_str();
  uint64_t gen_memory = 0;
  add_memory_options(generate, &gen_memory, &gen.load);

  std::string info_path;
  CLI::App* info = app.add_subcommand("info", "describe a model file");
  info->add_option("model", info_path, "model file (.terra)")->required();

  std::string verify_path;
  CLI::App* verify = app.add_subcommand("verify", "check a model file, including every tensor's checksum");
  verify->add_option("model", verify_path, "model file (.terra)")->required();

  terra::cli::PerplexityArgs ppl;
  CLI::App* perplexity = app.add_subcommand("perplexity", "perplexity of a text file under the model");
  perplexity->add_option("-m,--model", ppl.model_path, "model file (.terra)")->required();
  perplexity->add_option("--text", ppl.text_path, "text file")->required();
  perplexity->add_option("-w,--window", ppl.window, "tokens per scored window")->capture_default_str();
  perplexity->add_option("-t,--threads", ppl.threads, "threads")->capture_default_str();
  perplexity->add_flag("--json", ppl.json, "one JSON line");
  perplexity->add_flag("--stepwise", ppl.stepwise,
                       "score position by position through the decoding path (its numerics: integer activations for "
                       "int8/int4 rows) instead of blocks of positions");
  uint64_t ppl_memory = 0;
  add_memory_options(perplexity, &ppl_memory, &ppl.load);

  terra::cli::BenchArgs bench_args;
  CLI::App* bench = app.add_subcommand("bench", "measure decoding speed against the memory bandwidth");
  bench->add_option("-m,--model", bench_args.model_path, "model file (.terra)")->required();
  bench->add_option("-t,--threads", bench_args.threads, "threads")->capture_default_str();
  bench->add_option("-p,--prompt-len", bench_args.prompt_len, "prompt tokens")->check(kLength)->capture_default_str();
  bench->add_option("-i,--input-len", bench_args.input_len,
                    "encoder-decoder models: input tokens encoded per run (default: the prompt length)")
      ->check(kLength);
  bench->add_option("-n,--gen-len", bench_args.gen_len, "decoded tokens per run")->check(kLength)->capture_default_str();
  bench->add_option("-r,--repeat", bench_args.repeat, "timed runs")->check(CLI::Range(1, 1000000))->capture_default_str();
  bench->add_option("-w,--warmup", bench_args.warmup, "untimed runs before them")->check(CLI::Range(0, 1000000))->capture_default_str();
  bench->add_flag("--json", bench_args.json, "one JSON line");
  bench->add_flag("--pin", bench_args.pin, "pin threads to the fastest cores");
  bench->add_flag("!--no-probe", bench_args.probe, "skip the bandwidth probe");
  uint64_t bench_memory = 0;
  add_memory_options(bench, &bench_memory, &bench_args.load);
  add_engine_option(bench, &bench_args.engine);

  CLI11_PARSE(app, argc, argv);
  gen.session.max_memory = mib_to_bytes(gen_memory);
  ppl.max_memory = mib_to_bytes(ppl_memory);
  bench_args.max_memory = mib_to_bytes(bench_memory);
  if (generate->parsed()) {
    gen.seed_given = seed->count() > 0;
    gen.input_given = input->count() > 0;
    gen.ids_given = ids->count() > 0;
    gen.input_ids_given = input_ids->count() > 0;
    return terra::cli::run_generate(gen);
  }
  if (info->parsed()) return terra::cli::run_info(info_path);
  if (verify->parsed()) return terra::cli::run_verify(verify_path);
  if (perplexity->parsed()) return terra::cli::run_perplexity(ppl);
  if (bench->parsed()) return terra::cli::run_bench(bench_args);
  return 1;
}

}  // namespace

// Errors are values inside the runtime; whatever a library underneath still throws (an
// allocation that fails, a third-party parser) ends here as one line and exit code 1, never abort.
int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "terra: error: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "terra: error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "terra: error: unknown error\n");
  }
  return 1;
}
