#include "model/tensor_spec.h"

namespace terra {

const char* layout_name(Layout l) {
  switch (l) {
    case Layout::kRowMajor: return "row_major";
    case Layout::kOutIn: return "out_in";
    case Layout::kNeuronMajor: return "neuron_major";
  }
  return "?";
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace {

struct Builder {
  std::vector<TensorSpec> out;

  void vec(const std::string& name, int64_t n) {
    out.push_back({name, {n}, {n}, Layout::kRowMajor, Transform::kCopy, false});
  }
  void table(const std::string& name, std::vector<int64_t> shape, bool matrix) {
    out.push_back({name, shape, shape, Layout::kRowMajor, Transform::kCopy, matrix});
  }
  // A trax kernel [in, out...] stored as rows of output units: [out..., in].
  void kernel(const std::string& name, int64_t in, std::vector<int64_t> out_dims) {
    std::vector<int64_t> src{in};
    src.insert(src.end(), out_dims.begin(), out_dims.end());
    int64_t outs = 1;
    for (int64_t o : out_dims) outs *= o;
    out.push_back({name, src, {outs, in}, Layout::kOutIn, Transform::kTranspose2D, true});
  }
  void dense(const std::string& prefix, int64_t in, int64_t outs) {
    kernel(prefix + ".kernel", in, {outs});
    vec(prefix + ".bias", outs);
  }
  void norm(const std::string& prefix, int64_t d, bool centered) {
    vec(prefix + ".scale", d);
    if (centered) vec(prefix + ".bias", d);
  }
};

void positions(Builder& b, const ModelConfig& c, const std::string& p) {
  const int64_t d = c.d_model;
  switch (c.pos_encoding) {
    case PosEncoding::kFixedBase:
      b.vec(p + ".pos.start_vec", d);
      b.table(p + ".pos.base_weights", {int64_t(c.pos_bases.size()), c.pos_n_digits, d / c.pos_n_digits}, false);
      break;
    case PosEncoding::kLearned:
      if (c.pos_d_feature == 0) {
        b.table(p + ".pos.table", {c.max_len, d}, false);
      } else {  // trax PositionalEncoding(d_feature=k): table[pos] @ dense [k, d], no bias
        b.table(p + ".pos.table", {c.max_len, c.pos_d_feature}, false);
        b.kernel(p + ".pos.dense.kernel", c.pos_d_feature, {d});
      }
      break;
    case PosEncoding::kNone:
      break;
  }
}

void attention(Builder& b, const ModelConfig& c, const std::string& p, AttentionType type) {
  const int64_t d = c.d_model;
  b.norm(p + ".norm", d, c.center_layernorm);
  if (type != AttentionType::kMultConv) {
    const int64_t hk = int64_t(c.n_heads) * c.key_dim(), hv = int64_t(c.n_heads) * c.value_dim();
    b.dense(p + ".q", d, hk);
    b.dense(p + ".k", d, hk);
    b.dense(p + ".v", d, hv);
    b.dense(p + ".o", hv, d);
    return;
  }
  const int64_t S = c.qkv_sparsity, M = d / S, lk = c.qkv_length_kernel;
  b.table(p + ".mult.gating", {S, d}, true);
  b.kernel(p + ".mult.projection", d, {M});
  b.vec(p + ".mult.bias", d);
  if (S == 1) {  // trax's LocallyConvDense is a plain Dense for one module
    for (const char* w : {".q", ".k", ".v"}) b.dense(p + w, d, d);
    return;
  }
  for (const char* w : {".conv_q", ".conv_k", ".conv_v"}) {
    const int64_t kw = std::string(w) == ".conv_v" ? 1 : c.qkv_kernel_size;
    // [time, module, in, out] -> [time, module, out, in]: each tap is an out-major M x M matrix.
    b.out.push_back({p + w + ".kernel", {lk, kw, M, M}, {lk, kw, M, M}, Layout::kOutIn, Transform::kTransposeLast2, true});
    b.vec(p + w + ".bias", M);
  }
}

void feed_forward(Builder& b, const ModelConfig& c, const std::string& ff) {
  const int64_t d = c.d_model, f = c.d_ff;
  b.norm(ff + ".norm", d, c.center_layernorm);
  if (c.ff_sparsity == 0) {
    b.dense(ff + ".w1", d, f);
    b.dense(ff + ".w2", f, d);
  } else {
    const int64_t N = c.ff_sparsity, B = f / N, r = c.d_lowrank;
    b.kernel(ff + ".m1", d, {r});
    b.kernel(ff + ".m2", r, {B, N});
    b.table(ff + ".mb", {B, N}, false);
    b.out.push_back({ff + ".w1", {d, B, N}, {B, N, d}, Layout::kNeuronMajor, Transform::kTranspose2D, true});
    b.out.push_back({ff + ".w2", {N, B, d}, {B, N, d}, Layout::kNeuronMajor, Transform::kSwapFirstTwo, true});
    b.vec(ff + ".b2", d);
  }
  if (c.sru_layers > 0) {
    const int64_t n = c.sru_width;
    b.norm(ff + ".sru.norm", d, c.center_layernorm);
    b.dense(ff + ".sru.in", d, n);
    for (int j = 0; j < c.sru_layers; ++j) b.dense(ff + ".sru.cells." + std::to_string(j), n, 3 * n);
    b.dense(ff + ".sru.out", n, d);
  }
}

}  // namespace

std::vector<TensorSpec> model_tensors(const ModelConfig& c) {
  Builder b;
  const int64_t d = c.d_model, V = c.vocab_size;  // the input (encoder, and decoder unless separate) vocabulary
  b.table("embedding", {V, d}, true);
  if (c.n_encoder_layers > 0) {
    positions(b, c, "encoder");
    for (int L = 0; L < c.n_encoder_layers; ++L) {
      const std::string layer = "encoder.layers." + std::to_string(L);
      attention(b, c, layer + ".attn.0", c.encoder_attention_type);
      feed_forward(b, c, layer + ".ff");
    }
    if (!c.reversible_encoder) {
      b.dense("encoder.out_dense", d, d);
      b.norm("encoder.out_norm", d, true);
    }
  }
  if (c.output_vocab_size != 0) b.table("decoder.embedding", {c.output_vocab_size, d}, true);  // trax's output embedding
  positions(b, c, "decoder");
  for (int L = 0; L < c.n_decoder_layers; ++L) {
    const std::string layer = "decoder.layers." + std::to_string(L);
    for (int k = 0; k < c.n_decoder_attention_layers; ++k) {
      attention(b, c, layer + ".attn." + std::to_string(k), c.decoder_attention_type(L));
    }
    feed_forward(b, c, layer + ".ff");
  }
  const int64_t out = c.output_width(), Vo = c.output_vocab();
  b.norm("decoder.out_norm", out, true);
  if (c.loss_sparsity == 0) {
    b.dense("loss", out, Vo);
  } else {
    b.table("loss.gating", {c.loss_sparsity, out}, true);
    b.kernel("loss.projection", out, {Vo / c.loss_sparsity});
    b.vec("loss.bias", Vo);
  }
  return b.out;
}

}  // namespace terra
