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

}  // namespace

std::vector<TensorSpec> model_tensors(const ModelConfig& c) {
  Builder b;
  const int64_t d = c.d_model, f = c.d_ff, V = c.vocab_size;
  b.table("embedding", {V, d}, true);
  switch (c.pos_encoding) {
    case PosEncoding::kFixedBase:
      b.vec("decoder.pos.start_vec", d);
      b.table("decoder.pos.base_weights",
              {int64_t(c.pos_bases.size()), c.pos_n_digits, d / c.pos_n_digits}, false);
      break;
    case PosEncoding::kLearned:
      b.table("decoder.pos.table", {c.max_len, d}, false);
      break;
    case PosEncoding::kNone:
      break;
  }
  for (int L = 0; L < c.n_decoder_layers; ++L) {
    const std::string layer = "decoder.layers." + std::to_string(L);
    for (int k = 0; k < c.n_decoder_attention_layers; ++k) {
      const std::string attn = layer + ".attn." + std::to_string(k);
      b.norm(attn + ".norm", d, c.center_layernorm);
      for (const char* p : {".q", ".k", ".v", ".o"}) b.dense(attn + p, d, d);
    }
    const std::string ff = layer + ".ff";
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
  }
  b.norm("decoder.out_norm", d, true);
  b.dense("loss", d, V);
  return b.out;
}

}  // namespace terra
