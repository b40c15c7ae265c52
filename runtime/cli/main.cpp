// terra: the command-line front end. Each subcommand lives in its own file; this one only parses.
#include <CLI/CLI.hpp>

#include "cli/bench_command.h"
#include "cli/generate_command.h"
#include "cli/info_command.h"
#include "cli/perplexity_command.h"

int main(int argc, char** argv) {
  CLI::App app{"terra: run sparse Terraformer language models on the CPU"};
  app.require_subcommand(1);

  terra::cli::GenerateArgs gen;
  CLI::App* generate = app.add_subcommand("generate", "generate text from a prompt");
  generate->add_option("-m,--model", gen.model_path, "model file (.terra)")->required();
  generate->add_option("-p,--prompt", gen.prompt, "prompt text (the decoder's start)");
  CLI::Option* input = generate->add_option("-i,--input", gen.input,
                                            "encoder-decoder models: the input, as text or a file to read");
  generate->add_option("-n,--n-tokens", gen.n_tokens, "tokens to generate")->capture_default_str();
  generate->add_option("--temperature", gen.sampler.temperature, "0 = greedy")->capture_default_str();
  generate->add_option("--top-k", gen.sampler.top_k, "keep the k most likely tokens (0 = all)")->capture_default_str();
  generate->add_option("--top-p", gen.sampler.top_p, "nucleus probability mass")->capture_default_str();
  CLI::Option* seed = generate->add_option("--seed", gen.sampler.seed, "random seed (default: random)");
  generate->add_flag("--ignore-eos", gen.ignore_end, "do not stop at the end token");
  generate->add_flag("--print-ids", gen.print_ids, "print the prompt and generated token ids (JSON, stderr)");
  generate->add_option("-t,--threads", gen.session.threads, "threads")->capture_default_str();
  generate->add_flag("--pin", gen.session.pin_threads, "pin threads to the fastest cores");
  generate->add_option("-c,--max-context", gen.session.max_context,
                       "positions the session plans for (0 = exactly what input, prompt and -n need)")
      ->capture_default_str();

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

  terra::cli::BenchArgs bench_args;
  CLI::App* bench = app.add_subcommand("bench", "measure decoding speed against the memory bandwidth");
  bench->add_option("-m,--model", bench_args.model_path, "model file (.terra)")->required();
  bench->add_option("-t,--threads", bench_args.threads, "threads")->capture_default_str();
  bench->add_option("-p,--prompt-len", bench_args.prompt_len, "prompt tokens")->capture_default_str();
  bench->add_option("-n,--gen-len", bench_args.gen_len, "decoded tokens per run")->capture_default_str();
  bench->add_option("-r,--repeat", bench_args.repeat, "timed runs")->capture_default_str();
  bench->add_option("-w,--warmup", bench_args.warmup, "untimed runs before them")->capture_default_str();
  bench->add_flag("--json", bench_args.json, "one JSON line");
  bench->add_flag("--pin", bench_args.pin, "pin threads to the fastest cores");
  bench->add_flag("!--no-probe", bench_args.probe, "skip the bandwidth probe");

  CLI11_PARSE(app, argc, argv);
  if (generate->parsed()) {
    gen.seed_given = seed->count() > 0;
    gen.input_given = input->count() > 0;
    return terra::cli::run_generate(gen);
  }
  if (info->parsed()) return terra::cli::run_info(info_path);
  if (verify->parsed()) return terra::cli::run_verify(verify_path);
  if (perplexity->parsed()) return terra::cli::run_perplexity(ppl);
  if (bench->parsed()) return terra::cli::run_bench(bench_args);
  return 1;
}
