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
    ++bound_;
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
    return MatrixRef{v->data, v->dtype, cols ? v->elements() / cols : 0, cols};
  }
  DenseWeights dense(const std::string& prefix) { return {mat(prefix + ".kernel"), vec(prefix + ".bias")}; }
  NormWeights norm(const std::string& prefix, bool centered) {
    return {vec(prefix + ".scale"), centered ? vec(prefix + ".bias") : nullptr};
  }
  Status finish() {
    if (!status_.ok()) return status_;
    if (bound_ != file_.tensors().size()) {
      for (const TensorView& t : file_.tensors()) {
        if (!specs_.count(t.name)) {
          return Status::Error(ErrorCode::kCorruptModel,
                               file_.path() + ": tensor '" + t.name + "' is not part of a model with this config");
        }
      }
    }
    return Status::Ok();
  }

 private:
  const ModelFile& file_;
  std::map<std::string, TensorSpec> specs_;
  Status status_;
  size_t bound_ = 0;
};

}  // namespace

Result<ModelWeights> bind_weights(const ModelFile& file) {
  const ModelConfig& c = file.config();
  Binder b(file);
  ModelWeights w;
  w.embedding = b.mat("embedding");
  w.pos.kind = c.pos_encoding;
  if (c.pos_encoding == PosEncoding::kFixedBase) {
    w.pos.start_vec = b.vec("decoder.pos.start_vec");
    w.pos.base_weights = b.vec("decoder.pos.base_weights");
  } else if (c.pos_encoding == PosEncoding::kLearned) {
    w.pos.table = b.vec("decoder.pos.table");
  }
  for (int L = 0; L < c.n_decoder_layers; ++L) {
    const std::string layer = "decoder.layers." + std::to_string(L);
    DecoderLayerWeights lw;
    for (int k = 0; k < c.n_decoder_attention_layers; ++k) {
      const std::string p = layer + ".attn." + std::to_string(k);
      lw.attention.push_back(
          {b.norm(p + ".norm", c.center_layernorm), b.dense(p + ".q"), b.dense(p + ".k"), b.dense(p + ".v"),
           b.dense(p + ".o")});
    }
    const std::string ff = layer + ".ff";
    lw.ff.norm = b.norm(ff + ".norm", c.center_layernorm);
    lw.ff.sparse = c.ff_sparsity > 0;
    if (lw.ff.sparse) {
      SparseFFWeights& s = lw.ff.sff;
      s.blocks = c.ff_blocks();
      s.units = c.ff_sparsity;
      s.m1 = b.mat(ff + ".m1");
      s.m2 = b.mat(ff + ".m2");
      s.mb = b.vec(ff + ".mb");
      s.w1 = b.mat(ff + ".w1");
      s.w2 = b.mat(ff + ".w2");
      s.b2 = b.vec(ff + ".b2");
    } else {
      lw.ff.w1 = b.dense(ff + ".w1");
      lw.ff.w2 = b.dense(ff + ".w2");
    }
    w.layers.push_back(std::move(lw));
  }
  w.out_norm = b.norm("decoder.out_norm", true);
  w.loss = b.dense("loss");
  TERRA_RETURN_IF_ERROR(b.finish());
  return w;
}

}  // namespace terra
