// terra-convert: checkpoint (config.json + model.safetensors) -> .terra model file, or a
// random-weight model for any config (--synthesize) so benchmarks can run any size.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "convert.h"
#include "presets.h"
#include "trax/trax_import.h"

namespace {
int fail(const terra::Status& s) {
  std::fprintf(stderr, "terra-convert: error: %s\n", s.message().c_str());
  return 1;
}
}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"terra-convert: pack Terraformer weights into a .terra model file"};
  std::string checkpoint, synthesize, output, dtype = "f32";
  uint64_t seed = 0;
  bool quiet = false;
  auto* in = app.add_option("checkpoint", checkpoint, "folder with config.json and model.safetensors");
  auto* syn = app.add_option("--synthesize", synthesize,
                             "config.json or a preset name (--list-presets): write random weights instead");
  std::string from_trax;
  terra::trax::ImportOptions trax_options;
  auto* trax = app.add_option("--from-trax", from_trax,
                              "a trax checkpoint: model.pkl.gz (with model.weights.npy.gz beside it, or weights inside), "
                              "or its folder");
  app.add_option("--gin", trax_options.gin_path, "--from-trax: the checkpoint's config.gin (default: beside it)");
  app.add_option("--trax-model", trax_options.model_class,
                 "--from-trax: the model class, when config.gin does not say (TransformerLM, ConfigurableTransformerLM, "
                 "ReformerLM, ConfigurableTerraformer)");
  app.add_option("--vocab", trax_options.vocab,
                 "--from-trax: none (token ids), char (trax's byte vocabulary), a SentencePiece .model file or a "
                 "T2T .subword file")
      ->capture_default_str();
  app.add_option("--n-reserved-ids", trax_options.n_reserved_ids, "--from-trax: trax's n_reserved_ids of the vocabulary");
  app.add_option("--lsh-keys", trax_options.lsh_keys,
                 "--from-trax: a folder of LSH hash keys, PREFIX.npy (uint32 [heads, 2]) per LSH layer, e.g. "
                 "decoder.layers.0.attn.0.npy (default: the keys in the checkpoint's state)");
  trax->excludes(syn);
  in->excludes(trax);
  bool list = false;
  app.add_flag("--list-presets", list, "list the built-in configurations of the paper's Table 1");
  in->excludes(syn);
  auto* out = app.add_option("-o,--output", output, "model file to write");
  app.add_option("--dtype", dtype,
                 "weight matrices and embedding: f32, f16, int8 (a scale per row) or int4 (a scale per 32 weights)")
      ->check(CLI::IsMember({"f32", "f16", "int8", "int4"}))
      ->capture_default_str();
  std::vector<std::string> tensor_dtypes;
  app.add_option("--tensor-dtype", tensor_dtypes,
                 "PATTERN=DTYPE: tensors whose name matches the glob take DTYPE, e.g. 'embedding=f16' or "
                 "'*.ff.m?=f32' (repeatable, later ones win; names: terra info MODEL)");
  app.add_option("--seed", seed, "random seed for --synthesize")->capture_default_str();
  app.add_flag("-q,--quiet", quiet, "no progress bar or summary");
  CLI11_PARSE(app, argc, argv);
  if (list) {
    for (const terra::Preset& p : terra::presets()) std::printf("%-32s %s\n", p.name.c_str(), p.description.c_str());
    return 0;
  }
  if (out->count() == 0) {
    std::fprintf(stderr, "terra-convert: error: --output is required\n");
    return 2;
  }
  if (checkpoint.empty() && synthesize.empty() && from_trax.empty()) {
    std::fprintf(stderr, "terra-convert: error: give a checkpoint folder, --from-trax CHECKPOINT or --synthesize CONFIG\n");
    return 2;
  }

  std::unique_ptr<terra::trax::Imported> imported;
  if (!from_trax.empty()) {
    auto r = terra::trax::import_trax(from_trax, trax_options);
    if (!r.ok()) return fail(r.status());
    imported = r.take();
    if (!quiet) {
      std::fprintf(stderr, "trax %s: %zu weight leaves (%s)\n", imported->model.model_class.c_str(),
                   imported->checkpoint->weights().size(), imported->checkpoint->layout().c_str());
      for (const std::string& note : imported->model.notes) std::fprintf(stderr, "  note: %s\n", note.c_str());
    }
  }
  const terra::Preset* preset = synthesize.empty() ? nullptr : terra::find_preset(synthesize);
  terra::Result<terra::CheckpointConfig> config =
      imported ? terra::Result<terra::CheckpointConfig>(imported->config)
      : preset ? terra::Result<terra::CheckpointConfig>(preset->config)
               : terra::read_config_json(synthesize.empty() ? checkpoint + "/config.json" : synthesize);
  if (!config.ok()) return fail(config.status());

  std::unique_ptr<terra::SafetensorsFile> weights;
  terra::TensorSource source;
  if (imported) {
    source = imported->source;
  } else if (synthesize.empty()) {
    auto opened = terra::SafetensorsFile::open(checkpoint + "/model.safetensors");
    if (!opened.ok()) return fail(opened.status());
    weights = opened.take();
    terra::Status s = terra::check_checkpoint(*weights, config.value().model);
    if (!s.ok()) return fail(s);
    source = terra::checkpoint_source(*weights);
    if (!config.value().metadata.count("source")) config.value().metadata["source"] = checkpoint;
  } else {
    source = terra::random_source(config.value().model, seed);
    config.value().metadata["source"] = "synthesized random weights (seed " + std::to_string(seed) + ")";
  }

  terra::ConvertOptions options;
  options.dtype = terra::parse_dtype(dtype).value();  // CLI11 already checked the name
  for (const std::string& spec : tensor_dtypes) {
    const size_t eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(terra::Status::Error(terra::ErrorCode::kInvalidArgument,
                                       "--tensor-dtype '" + spec + "': expected PATTERN=DTYPE"));
    }
    auto dt = terra::parse_dtype(spec.substr(eq + 1));
    if (!dt.ok()) return fail(terra::Status::Error(dt.status().code(), "--tensor-dtype '" + spec + "': " + dt.status().message()));
    options.overrides.push_back({spec.substr(0, eq), dt.value()});
  }
  options.progress = !quiet && isatty(STDERR_FILENO);
  terra::ConvertSummary summary;
  terra::Status s = terra::convert(config.value(), source, output, options, &summary);
  if (!s.ok()) return fail(s);
  if (!quiet) {
    std::fprintf(stderr, "wrote %s (%s): %.2f MiB, %llu parameters\n", output.c_str(), dtype.c_str(),
                 double(summary.file_size) / (1 << 20), (unsigned long long)summary.parameters);
    for (const auto& [name, bytes] : summary.bytes_by_dtype) {
      std::fprintf(stderr, "  stored as %-12s %10.2f MiB\n", name.c_str(), double(bytes) / (1 << 20));
    }
    for (const auto& [kind, n] : summary.parameters_by_kind) {
      std::fprintf(stderr, "  %-22s %12llu  (%.1f%%)\n", kind.c_str(), (unsigned long long)n,
                   100.0 * double(n) / double(summary.parameters));
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "terra-convert: error: out of memory (the model is too large for this machine)\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "terra-convert: error: %s\n", e.what());
  }
  return 1;
}
