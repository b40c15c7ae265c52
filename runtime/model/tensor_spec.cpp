#include "model/tensor_spec.h"

#include <utility>

#include "model/weights.h"

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

// Declares tensors in file order, each with the field it fills.
struct Walk {
  std::vector<TensorSlot> out;

  void values(const std::string& name, std::vector<int64_t> shape, const float** slot) {
    out.push_back({{name, shape, shape, Layout::kRowMajor, Transform::kCopy, false}, nullptr, slot});
  }
  void vec(const std::string& name, int64_t n, const float** slot) { values(name, {n}, slot); }
  // A matrix stored as the checkpoint has it (embeddings, gating tables): the file's dtype.
  void table(const std::string& name, std::vector<int64_t> shape, MatrixRef* slot) {
    out.push_back({{name, shape, shape, Layout::kRowMajor, Transform::kCopy, true}, slot, nullptr});
  }
  // A trax kernel [in, out...] stored as rows of output units: [out..., in].
  void kernel(const std::string& name, int64_t in, std::vector<int64_t> out_dims, MatrixRef* slot) {
    std::vector<int64_t> src{in};
    src.insert(src.end(), out_dims.begin(), out_dims.end());
    int64_t outs = 1;
    for (int64_t o : out_dims) outs *= o;
    out.push_back({{name, src, {outs, in}, Layout::kOutIn, Transform::kTranspose2D, true}, slot, nullptr});
  }
  void dense(const std::string& prefix, int64_t in, int64_t outs, DenseWeights* w) {
    kernel(prefix + ".kernel", in, {outs}, &w->w);
    vec(prefix + ".bias", outs, &w->bias);
  }
  void norm(const std::string& prefix, int64_t d, bool centered, NormWeights* w) {
    vec(prefix + ".scale", d, &w->scale);
    if (centered) vec(prefix + ".bias", d, &w->bias);
  }
  // FactoredDense(S, d_in, S*M): gating [S, d_in], projection [d_in, M] stored out-major, bias [S*M].
  void factored(const std::string& prefix, int64_t S, int64_t d_in, int64_t M, FactoredDenseWeights* w) {
    table(prefix + ".gating", {S, d_in}, &w->gating);
    kernel(prefix + ".projection", d_in, {M}, &w->projection);
    vec(prefix + ".bias", S * M, &w->bias);
  }
};

void positions(Walk& b, const ModelConfig& c, const std::string& p, PositionWeights* w) {
  const int64_t d = c.d_model;
  w->kind = c.pos_encoding;
  switch (c.pos_encoding) {
    case PosEncoding::kFixedBase:
      b.vec(p + ".pos.start_vec", d, &w->start_vec);
      b.values(p + ".pos.base_weights", {int64_t(c.pos_bases.size()), c.pos_n_digits, d / c.pos_n_digits},
               &w->base_weights);
      break;
    case PosEncoding::kLearned:
      if (c.pos_d_feature == 0) {
        b.values(p + ".pos.table", {c.max_len, d}, &w->table);
      } else {  // trax PositionalEncoding(d_feature=k): table[pos] @ dense [k, d], no bias
        b.values(p + ".pos.table", {c.max_len, c.pos_d_feature}, &w->table);
        b.kernel(p + ".pos.dense.kernel", c.pos_d_feature, {d}, &w->dense);
      }
      break;
    case PosEncoding::kNone:
      break;
  }
}

// trax LSHSelfAttention: w_q (shared by queries and keys), w_v, w_o without biases, and the
// fixed random rotations of each head, or with a derived bucket count each head's key. With
// lsh_bias (trax PureLSHSelfAttentionWrapper's Dense layers), qk, v and o have biases.
void lsh_attention(Walk& b, const ModelConfig& c, const std::string& p, bool decoder, AttentionWeights* w) {
  const LshDims dims = lsh_dims(c, decoder);
  const int64_t d = c.d_model, H = c.n_heads, hk = H * dims.dk, hv = H * dims.dv;
  b.kernel(p + ".qk.kernel", d, {hk}, &w->q.w);
  if (c.lsh_bias) b.vec(p + ".qk.bias", hk, &w->q.bias);
  b.kernel(p + ".v.kernel", d, {hv}, &w->v.w);
  if (c.lsh_bias) b.vec(p + ".v.bias", hv, &w->v.bias);
  b.kernel(p + ".o.kernel", hv, {d}, &w->o.w);
  if (c.lsh_bias) b.vec(p + ".o.bias", d, &w->o.bias);
  if (c.lsh_buckets_derived()) {  // rotations drawn per call from each head's key (jax::key_to_halves)
    b.values(p + ".hash_keys", {H, 4}, &w->hash_keys);
  } else {
    b.values(p + ".rotations", {H, dims.dk, int64_t(c.lsh_n_hashes) * c.lsh_rotation_half()}, &w->rotations);
  }
}

void attention(Walk& b, const ModelConfig& c, const std::string& p, AttentionType type, bool decoder,
               AttentionWeights* w) {
  const int64_t d = c.d_model;
  w->type = type;
  b.norm(p + ".norm", d, c.center_layernorm, &w->norm);
  if (type == AttentionType::kLSH) return lsh_attention(b, c, p, decoder, w);
  if (type != AttentionType::kMultConv) {
    const int64_t hk = int64_t(c.n_heads) * c.key_dim(), hv = int64_t(c.n_heads) * c.value_dim();
    b.dense(p + ".q", d, hk, &w->q);
    b.dense(p + ".k", d, hk, &w->k);
    b.dense(p + ".v", d, hv, &w->v);
    b.dense(p + ".o", hv, d, &w->o);
    return;
  }
  const int64_t S = c.qkv_sparsity, M = d / S, lk = c.qkv_length_kernel;
  b.factored(p + ".mult", S, d, M, &w->mult);
  if (S == 1) {  // trax's LocallyConvDense is a plain Dense for one module
    b.dense(p + ".q", d, d, &w->q);
    b.dense(p + ".k", d, d, &w->k);
    b.dense(p + ".v", d, d, &w->v);
    return;
  }
  for (auto [name, conv] : {std::pair{".conv_q", &w->conv_q}, {".conv_k", &w->conv_k}, {".conv_v", &w->conv_v}}) {
    const int64_t kw = conv == &w->conv_v ? 1 : c.qkv_kernel_size;
    conv->length_kernel = int(lk);
    conv->module_kernel = int(kw);
    // [time, module, in, out] -> [time, module, out, in]: each tap is an out-major M x M matrix.
    b.out.push_back({{p + name + ".kernel", {lk, kw, M, M}, {lk, kw, M, M}, Layout::kOutIn, Transform::kTransposeLast2,
                      true},
                     &conv->kernel, nullptr});
    b.vec(p + name + ".bias", M, &conv->bias);
  }
}

void feed_forward(Walk& b, const ModelConfig& c, const std::string& ff, FeedForwardWeights* w) {
  const int64_t d = c.d_model, f = c.d_ff;
  b.norm(ff + ".norm", d, c.center_layernorm, &w->norm);
  w->sparse = c.ff_sparsity > 0;
  w->activation = Activation(c.ff_activation);
  if (!w->sparse) {
    b.dense(ff + ".w1", d, f, &w->w1);
    b.dense(ff + ".w2", f, d, &w->w2);
  } else {
    SparseFFWeights& s = w->sff;
    const int64_t N = c.ff_sparsity, B = f / N, r = c.d_lowrank;
    s.blocks = int(B);
    s.units = int(N);
    b.kernel(ff + ".m1", d, {r}, &s.m1);
    b.kernel(ff + ".m2", r, {B, N}, &s.m2);
    b.values(ff + ".mb", {B, N}, &s.mb);
    b.out.push_back({{ff + ".w1", {d, B, N}, {B, N, d}, Layout::kNeuronMajor, Transform::kTranspose2D, true}, &s.w1,
                     nullptr});
    b.out.push_back({{ff + ".w2", {N, B, d}, {B, N, d}, Layout::kNeuronMajor, Transform::kSwapFirstTwo, true}, &s.w2,
                     nullptr});
    b.vec(ff + ".b2", d, &s.b2);
  }
  w->has_sru = c.sru_layers > 0;
  if (w->has_sru) {
    const int64_t n = c.sru_width;
    w->sru.cells.resize(size_t(c.sru_layers));
    b.norm(ff + ".sru.norm", d, c.center_layernorm, &w->sru.norm);
    b.dense(ff + ".sru.in", d, n, &w->sru.in);
    for (int j = 0; j < c.sru_layers; ++j) b.dense(ff + ".sru.cells." + std::to_string(j), n, 3 * n, &w->sru.cells[j]);
    b.dense(ff + ".sru.out", n, d, &w->sru.out);
  }
}

}  // namespace

std::vector<TensorSlot> model_tensor_slots(const ModelConfig& c, ModelWeights* w) {
  Walk b;
  const int64_t d = c.d_model, V = c.vocab_size;  // the input (encoder, and decoder unless separate) vocabulary
  b.table("embedding", {V, d}, &w->embedding);
  w->encoder.assign(size_t(c.n_encoder_layers), LayerWeights{});
  if (c.n_encoder_layers > 0) {
    positions(b, c, "encoder", &w->encoder_pos);
    for (int L = 0; L < c.n_encoder_layers; ++L) {
      const std::string layer = "encoder.layers." + std::to_string(L);
      LayerWeights& lw = w->encoder[size_t(L)];
      lw.attention.resize(1);
      attention(b, c, layer + ".attn.0", c.encoder_attention_type, false, &lw.attention[0]);
      feed_forward(b, c, layer + ".ff", &lw.ff);
    }
    if (!c.reversible_encoder) {
      b.dense("encoder.out_dense", d, d, &w->encoder_out_dense);
      b.norm("encoder.out_norm", d, true, &w->encoder_out_norm);
    }
  }
  // trax's separate output embedding; without it the decoder reads `embedding` (bind_weights).
  if (c.output_vocab_size != 0) b.table("decoder.embedding", {c.output_vocab_size, d}, &w->decoder_embedding);
  positions(b, c, "decoder", &w->decoder_pos);
  w->decoder.assign(size_t(c.n_decoder_layers), LayerWeights{});
  for (int L = 0; L < c.n_decoder_layers; ++L) {
    const std::string layer = "decoder.layers." + std::to_string(L);
    LayerWeights& lw = w->decoder[size_t(L)];
    lw.attention.resize(size_t(c.n_decoder_attention_layers));
    for (int k = 0; k < c.n_decoder_attention_layers; ++k) {
      attention(b, c, layer + ".attn." + std::to_string(k), c.decoder_attention_type(L), true,
                &lw.attention[size_t(k)]);
    }
    feed_forward(b, c, layer + ".ff", &lw.ff);
  }
  const int64_t out = c.output_width(), Vo = c.output_vocab();
  b.norm("decoder.out_norm", out, true, &w->out_norm);
  w->loss.factored = c.loss_sparsity > 0;
  if (!w->loss.factored) {
    b.kernel("loss.kernel", out, {Vo}, &w->loss.kernel);
    b.vec("loss.bias", Vo, &w->loss.bias);
  } else {
    b.factored("loss", c.loss_sparsity, out, Vo / c.loss_sparsity, &w->loss.mult);
    w->loss.bias = nullptr;
  }
  return std::move(b.out);
}

std::vector<TensorSpec> model_tensors(const ModelConfig& c) {
  ModelWeights unused;
  std::vector<TensorSpec> specs;
  for (TensorSlot& s : model_tensor_slots(c, &unused)) specs.push_back(std::move(s.spec));
  return specs;
}

}  // namespace terra
