#include "model/weights.h"

#include <map>

#include "model/model_file.h"

namespace terra {

namespace {

// Resolves names against the file, remembering the first error so binding code stays linear.
class Binder {
 public:
  explicit Binder(const ModelFile& f) : file_(f) {
    for (const TensorSpec& s : model_tensors(f.config())) specs_[s.name] = s;
  }
  const TensorView* get(const std::string& name) {
    auto it = specs_.find(name);
    if (it == specs_.end() || !status_.ok()) return nullptr;
    auto r = file_.find(it->second);
    if (!r.ok()) {
      status_ = r.status();
      return nullptr;
    }
    return r.value();
  }
  const float* vec(const std::string& name) {
    const TensorView* v = get(name);
    return v ? static_cast<const float*>(v->data) : nullptr;
  }
  MatrixRef mat(const std::string& name) {
    const TensorView* v = get(name);
    if (!v) return {};
    const int64_t cols = v->shape.back();
    return MatrixRef::of(v->data, v->dtype, cols ? v->elements() / cols : 0, cols);
  }
  DenseWeights dense(const std::string& prefix) { return {mat(prefix + ".kernel"), vec(prefix + ".bias")}; }
  NormWeights norm(const std::string& prefix, bool centered) {
    return {vec(prefix + ".scale"), centered ? vec(prefix + ".bias") : nullptr};
  }
  Status finish() {
    if (!status_.ok()) return status_;
    for (const TensorView& t : file_.tensors()) {
      if (!specs_.count(t.name)) {
        return Status::Error(ErrorCode::kCorruptModel,
                             file_.path() + ": tensor '" + t.name + "' is not part of a model with this config");
      }
    }
    return Status::Ok();
  }

 private:
  const ModelFile& file_;
  std::map<std::string, TensorSpec> specs_;
  Status status_;
};

}  // namespace

namespace {

PositionWeights bind_positions(Binder& b, const ModelConfig& c, const std::string& p) {
  PositionWeights w;
  w.kind = c.pos_encoding;
  if (c.pos_encoding == PosEncoding::kFixedBase) {
    w.start_vec = b.vec(p + ".pos.start_vec");
    w.base_weights = b.vec(p + ".pos.base_weights");
  } else if (c.pos_encoding == PosEncoding::kLearned) {
    w.table = b.vec(p + ".pos.table");
    if (c.pos_d_feature != 0) w.dense = b.mat(p + ".pos.dense.kernel");
  }
  return w;
}

FactoredDenseWeights bind_factored(Binder& b, const std::string& p) {
  return {b.mat(p + ".gating"), b.mat(p + ".projection"), b.vec(p + ".bias")};
}

AttentionWeights bind_attention(Binder& b, const ModelConfig& c, const std::string& p, AttentionType type) {
  AttentionWeights w;
  w.type = type;
  w.norm = b.norm(p + ".norm", c.center_layernorm);
  if (type != AttentionType::kMultConv) {
    w.q = b.dense(p + ".q");
    w.k = b.dense(p + ".k");
    w.v = b.dense(p + ".v");
    w.o = b.dense(p + ".o");
    return w;
  }
  w.mult = bind_factored(b, p + ".mult");
  if (c.qkv_sparsity == 1) {
    w.q = b.dense(p + ".q");
    w.k = b.dense(p + ".k");
    w.v = b.dense(p + ".v");
    return w;
  }
  auto conv = [&](const std::string& name, int kw) {
    ConvWeights cw;
    cw.kernel = b.mat(p + name + ".kernel");
    cw.bias = b.vec(p + name + ".bias");
    cw.length_kernel = c.qkv_length_kernel;
    cw.module_kernel = kw;
    return cw;
  };
  w.conv_q = conv(".conv_q", c.qkv_kernel_size);
  w.conv_k = conv(".conv_k", c.qkv_kernel_size);
  w.conv_v = conv(".conv_v", 1);
  return w;
}

FeedForwardWeights bind_feed_forward(Binder& b, const ModelConfig& c, const std::string& ff) {
  FeedForwardWeights w;
  w.norm = b.norm(ff + ".norm", c.center_layernorm);
  w.sparse = c.ff_sparsity > 0;
  w.activation = Activation(c.ff_activation);
  if (w.sparse) {
    SparseFFWeights& s = w.sff;
    s.blocks = c.ff_blocks();
    s.units = c.ff_sparsity;
    s.m1 = b.mat(ff + ".m1");
    s.m2 = b.mat(ff + ".m2");
    s.mb = b.vec(ff + ".mb");
    s.w1 = b.mat(ff + ".w1");
    s.w2 = b.mat(ff + ".w2");
    s.b2 = b.vec(ff + ".b2");
  } else {
    w.w1 = b.dense(ff + ".w1");
    w.w2 = b.dense(ff + ".w2");
  }
  w.has_sru = c.sru_layers > 0;
  if (w.has_sru) {
    w.sru.norm = b.norm(ff + ".sru.norm", c.center_layernorm);
    w.sru.in = b.dense(ff + ".sru.in");
    for (int j = 0; j < c.sru_layers; ++j) w.sru.cells.push_back(b.dense(ff + ".sru.cells." + std::to_string(j)));
    w.sru.out = b.dense(ff + ".sru.out");
  }
  return w;
}

}  // namespace

Result<ModelWeights> bind_weights(const ModelFile& file) {
  const ModelConfig& c = file.config();
  Binder b(file);
  ModelWeights w;
  w.embedding = b.mat("embedding");
  if (c.n_encoder_layers > 0) {
    w.encoder_pos = bind_positions(b, c, "encoder");
    for (int L = 0; L < c.n_encoder_layers; ++L) {
      const std::string layer = "encoder.layers." + std::to_string(L);
      LayerWeights lw;
      lw.attention.push_back(bind_attention(b, c, layer + ".attn.0", c.encoder_attention_type));
      lw.ff = bind_feed_forward(b, c, layer + ".ff");
      w.encoder.push_back(std::move(lw));
    }
    if (!c.reversible_encoder) {
      w.encoder_out_dense = b.dense("encoder.out_dense");
      w.encoder_out_norm = b.norm("encoder.out_norm", true);
    }
  }
  w.decoder_embedding = c.output_vocab_size != 0 ? b.mat("decoder.embedding") : w.embedding;
  w.decoder_pos = bind_positions(b, c, "decoder");
  for (int L = 0; L < c.n_decoder_layers; ++L) {
    const std::string layer = "decoder.layers." + std::to_string(L);
    LayerWeights lw;
    for (int k = 0; k < c.n_decoder_attention_layers; ++k) {
      lw.attention.push_back(bind_attention(b, c, layer + ".attn." + std::to_string(k), c.decoder_attention_type(L)));
    }
    lw.ff = bind_feed_forward(b, c, layer + ".ff");
    w.decoder.push_back(std::move(lw));
  }
  w.out_norm = b.norm("decoder.out_norm", true);
  w.loss.factored = c.loss_sparsity > 0;
  if (w.loss.factored) {
    w.loss.mult = bind_factored(b, "loss");
  } else {
    w.loss.kernel = b.mat("loss.kernel");
  }
  w.loss.bias = b.vec("loss.bias");
  TERRA_RETURN_IF_ERROR(b.finish());
  return w;
}

}  // namespace terra
