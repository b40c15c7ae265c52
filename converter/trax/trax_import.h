// terra-convert --from-trax: a trax checkpoint and its config.gin -> the converter's config and
// a source of every terra tensor. The leaves of the checkpoint are matched, in order, with what
// the model class builds (trax_models.h); a count or shape mismatch is an error naming the leaf
// index, the terra tensor and both shapes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "convert.h"
#include "trax/trax_checkpoint.h"
#include "trax/trax_models.h"

namespace terra::trax {

struct ImportOptions {
  std::string gin_path;      // default: config.gin beside the checkpoint
  std::string model_class;   // default: from the gin file
  // The vocabulary: "none" (raw ids), "char" (trax's char vocabulary = terra's byte tokenizer),
  // a SentencePiece .model file (T5's: pad 0, EOS 1), or a T2T SubwordTextEncoder vocabulary
  // (.subword), ids offset by n_reserved_ids.
  std::string vocab = "none";
  int n_reserved_ids = -1;   // trax's offset of vocabulary ids; -1: 0, or 2 for "char"
  // LSH attention's hash keys (docs/lsh-attention.md): a folder of PREFIX.npy files, uint32
  // [heads, 2] (or [batch * heads, 2]), one per LSH layer (e.g. decoder.layers.1.attn.0.npy): the
  // state keys of the trax model whose decoding should be reproduced. Default: the keys in the
  // checkpoint's own state.
  std::string lsh_keys;
};

struct Imported {
  CheckpointConfig config;
  std::unique_ptr<Checkpoint> checkpoint;
  ModelDescription model;
  TensorSource source;  // valid while this object lives
};

Result<std::unique_ptr<Imported>> import_trax(const std::string& checkpoint, const ImportOptions& options);

// Matches leaves with the model's description; also the core of import_trax, for tests and fuzzing.
Status match_leaves(const ModelDescription& model, const std::vector<Array>& leaves, const std::string& name);

}  // namespace terra::trax
