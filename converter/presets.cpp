#include "presets.h"

namespace terra {

namespace {

// Table 1 "medium": 24 decoder layers of standard blocks (one attention, one FF), d 1024, 16
// heads, vocabulary 32000. Sparse FF: d_ff 6144 in blocks of 64 (controller rank d_ff / 64);
// sparse QKV: multiplicative-conv attention with S = 16 and a 3-row time kernel.
// Table 1 "big" (17B) is timed by the paper as a slice of 1 encoder and 2 decoder layers:
// d 9216, 96 heads, d_ff 40960; sparse FF d_ff 65536 with N = 256, r = 32; sparse QKV S = 64.
struct Shape {
  int d_model, n_heads, n_encoder, n_decoder, d_ff_dense, d_ff_sparse, ff_sparsity, d_lowrank, qkv_sparsity;
};

// residual: the same layers as trax's ConfigurableTransformerLM builds them, the paper's "Scaling
// Transformer" (decoder-only pre-LayerNorm residual blocks, trax's PositionalEncoding table);
// otherwise the Terraformer's reversible blocks with fixed-base positions.
Preset make(const std::string& name, const std::string& what, const Shape& s, bool sparse_ff, bool sparse_qkv,
           bool sparse_loss = false, bool residual = false) {
  Preset p;
  p.name = name;
  p.description = what;
  ModelConfig& c = p.config.model;
  c.vocab_size = 32000;
  c.d_model = s.d_model;
  c.n_heads = s.n_heads;
  c.n_encoder_layers = s.n_encoder;
  c.n_decoder_layers = s.n_decoder;
  c.n_decoder_attention_layers = 1;
  c.max_len = 2048;
  c.d_ff = sparse_ff ? s.d_ff_sparse : s.d_ff_dense;
  if (sparse_ff) {
    c.ff_sparsity = s.ff_sparsity;
    c.d_lowrank = s.d_lowrank;
  }
  if (sparse_qkv) {
    c.decoder_attention_types = {AttentionType::kMultConv};
    c.qkv_sparsity = s.qkv_sparsity;
  }
  if (sparse_loss) c.loss_sparsity = 4;  // the paper's optional sparse loss layer
  if (residual) {
    c.block_type = BlockType::kResidual;
    c.n_decoder_layers += c.n_encoder_layers;  // decoder-only: the slice's layers all decode
    c.n_encoder_layers = 0;
    c.pos_encoding = PosEncoding::kLearned;
  }
  p.config.metadata["name"] = name;
  return p;
}

std::vector<Preset> build() {
  const Shape medium{1024, 16, 0, 24, 4096, 6144, 64, 6144 / 64, 16};
  const Shape big{9216, 96, 1, 2, 40960, 65536, 256, 32, 64};
  std::vector<Preset> v;
  for (const auto& [tag, shape, label] :
       {std::tuple{std::string("800m"), medium, std::string("Table 1 medium (800M)")},
        std::tuple{std::string("17b-slice"), big, std::string("Table 1 big (17B), 1 encoder + 2 decoder layers")}}) {
    v.push_back(make(tag + "-baseline", label + ": dense baseline", shape, false, false));
    v.push_back(make(tag + "-sparse-ff", label + ": + sparse FF", shape, true, false));
    v.push_back(make(tag + "-sparse-qkv", label + ": + sparse QKV", shape, false, true));
    v.push_back(make(tag + "-sparse-ff-qkv", label + ": + sparse FF + sparse QKV", shape, true, true));
    v.push_back(make(tag + "-sparse-all", label + ": + sparse FF + sparse QKV + sparse loss (4)", shape, true, true, true));
  }
  // The same rows as trax's ConfigurableTransformerLM (residual blocks): the Scaling Transformer.
  for (const auto& [tag, shape, label] :
       {std::tuple{std::string("800m-scaling"), medium, std::string("Scaling Transformer, Table 1 medium (800M)")},
        std::tuple{std::string("17b-slice-scaling"), big,
                   std::string("Scaling Transformer, Table 1 big (17B), 3 decoder layers")}}) {
    v.push_back(make(tag + "-baseline", label + ": dense baseline", shape, false, false, false, true));
    v.push_back(make(tag + "-sparse-ff", label + ": + sparse FF", shape, true, false, false, true));
    v.push_back(make(tag + "-sparse-qkv", label + ": + sparse QKV", shape, false, true, false, true));
    v.push_back(make(tag + "-sparse-ff-qkv", label + ": + sparse FF + sparse QKV", shape, true, true, false, true));
    v.push_back(make(tag + "-sparse-all", label + ": + sparse FF + sparse QKV + sparse loss (4)", shape, true, true, true,
                     true));
  }
  // trax's scientific_papers_terraformer.gin (arXiv summarization, 16K-token inputs): 8 + 8 layers,
  // d 1024, 8 heads, d_ff 4096, key/value width 128, two attention layers per decoder block,
  // LSHSelfAttention with chunk_len 128, 128 buckets, 2 hashes, one chunk before (and one after in
  // the encoder), predict memory 16384; and the same model with dense attention, for comparison.
  for (const bool lsh : {true, false}) {
    Preset p;
    p.name = lsh ? "sci-papers-lsh" : "sci-papers-dense";
    p.description = lsh ? "scientific_papers_terraformer.gin: LSH attention, 16K-token inputs"
                        : "scientific_papers_terraformer.gin with dense attention instead of LSH";
    ModelConfig& c = p.config.model;
    c.vocab_size = 32000;
    c.d_model = 1024;
    c.d_ff = 4096;
    c.n_heads = 8;
    c.n_encoder_layers = 8;
    c.n_decoder_layers = 8;
    c.n_decoder_attention_layers = 2;
    c.d_attention_key = 128;
    c.d_attention_value = 128;
    c.max_len = 16384;
    if (lsh) {
      c.encoder_attention_type = AttentionType::kLSH;
      c.decoder_attention_types = {AttentionType::kLSH};
      c.lsh_chunk_len = 128;
      c.lsh_n_buckets = 128;
      c.lsh_n_hashes = 2;
      c.lsh_n_chunks_before = 1;
      c.lsh_n_chunks_after = 1;
      c.lsh_predict_mem_len = 16384;
      c.lsh_predict_drop_len = 16384;
    }
    p.config.metadata["name"] = p.name;
    v.push_back(p);
  }
  return v;
}

}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = build();
  return all;
}

const Preset* find_preset(const std::string& name) {
  for (const Preset& p : presets()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace terra
