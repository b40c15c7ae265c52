#include "convert.h"

#include <fnmatch.h>

#include <cmath>
#include <cstdio>

#include "core/quant.h"
#include "model_writer.h"
#include "core/jax_random.h"
#include "tokenizer/tokenizer.h"

namespace terra {

namespace {

int64_t elements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string kind_of(const std::string& name, bool sparse_ff) {
  if (name == "embedding") return "embedding";
  if (name.find(".pos.") != std::string::npos) return "positional";
  if (name.find("norm.") != std::string::npos) return "layernorm";
  if (name.find(".sru.") != std::string::npos) return "SRU branch";
  if (name.find(".attn.") != std::string::npos) return "attention";
  if (name.rfind("encoder.out_", 0) == 0) return "encoder output";
  if (name.rfind("loss.", 0) == 0) return "loss layer";
  if (!sparse_ff) return "dense feed-forward";
  if (ends_with(name, ".m1") || ends_with(name, ".m2") || ends_with(name, ".mb")) return "sparse FF controller";
  return "sparse FF units";
}

class Progress {
 public:
  Progress(bool on, uint64_t total) : on_(on), total_(total) {}
  void advance(uint64_t bytes, const std::string& name) {
    done_ += bytes;
    if (!on_) return;
    const int width = 30, filled = total_ ? int(width * done_ / total_) : width;
    std::fprintf(stderr, "\r[%.*s%*s] %3d%% %-40.40s", filled, "##############################", width - filled, "",
                 total_ ? int(100 * done_ / total_) : 100, name.c_str());
    if (done_ >= total_) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  bool on_;
  uint64_t total_, done_ = 0;
};

}  // namespace

std::vector<float> relayout(const TensorSpec& spec, const std::vector<float>& src) {
  const auto& s = spec.source_shape;
  switch (spec.transform) {
    case Transform::kCopy:
      return src;
    case Transform::kTranspose2D: {
      const int64_t rows = s[0], cols = int64_t(src.size()) / rows;
      std::vector<float> out(src.size());
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < cols; ++c) out[size_t(c * rows + r)] = src[size_t(r * cols + c)];
      }
      return out;
    }
    case Transform::kSwapFirstTwo: {
      const int64_t a = s[0], b = s[1], c = s[2];
      std::vector<float> out(src.size());
      for (int64_t i = 0; i < a; ++i) {
        for (int64_t j = 0; j < b; ++j) {
          const float* from = &src[size_t((i * b + j) * c)];
          std::copy(from, from + c, &out[size_t((j * a + i) * c)]);
        }
      }
      return out;
    }
    case Transform::kTransposeLast2: {
      const int64_t o = s.back(), i = s[s.size() - 2], taps = int64_t(src.size()) / (i * o);
      std::vector<float> out(src.size());
      for (int64_t t = 0; t < taps; ++t) {
        const float* from = &src[size_t(t * i * o)];
        float* to = &out[size_t(t * i * o)];
        for (int64_t r = 0; r < i; ++r) {
          for (int64_t c = 0; c < o; ++c) to[c * i + r] = from[r * o + c];
        }
      }
      return out;
    }
  }
  return src;
}

Status check_checkpoint(const SafetensorsFile& weights, const ModelConfig& config) {
  std::map<std::string, bool> expected;
  for (const TensorSpec& spec : model_tensors(config)) {
    expected[spec.name] = true;
    const SafetensorsEntry* e = weights.find(spec.name);
    if (e == nullptr) {
      return Status::Error(ErrorCode::kInvalidArgument, weights.path() + ": tensor '" + spec.name +
                                                            "' is missing (expected shape " +
                                                            shape_string(spec.source_shape) + ")");
    }
    if (e->shape != spec.source_shape) {
      return Status::Error(ErrorCode::kInvalidArgument, weights.path() + ": tensor '" + spec.name + "' has shape " +
                                                            shape_string(e->shape) + ", expected " +
                                                            shape_string(spec.source_shape) + " from config.json");
    }
    if (e->dtype != "F32" && e->dtype != "F16" && e->dtype != "BF16") {
      return Status::Error(ErrorCode::kInvalidArgument, weights.path() + ": tensor '" + spec.name + "' has dtype " +
                                                            e->dtype + ", expected F32, F16 or BF16");
    }
  }
  for (const auto& [name, entry] : weights.entries()) {
    if (!expected.count(name)) {
      return Status::Error(ErrorCode::kInvalidArgument,
                           weights.path() + ": unexpected tensor '" + name + "' " + shape_string(entry.shape) +
                               " is not part of a model with this config.json");
    }
  }
  return Status::Ok();
}

TensorSource checkpoint_source(const SafetensorsFile& weights) {
  return [&weights](const TensorSpec& spec) { return weights.read_f32(spec.name); };
}

namespace {
// Synthesizing the paper's 17B shapes draws billions of numbers: splitmix64, and a unit normal
// approximated by the sum of four 16-bit uniforms (Irwin-Hall, scaled to variance 1). Random
// benchmark weights need the right scale, not exact tails.
struct FastNormal {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float operator()() {
    const uint64_t r = next();
    const float sum = float((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48));
    return (sum * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;  // (sum of 4 U(0,1) - 2) * sqrt(3)
  }
  float uniform() { return float(next() >> 40) * (1.0f / 16777216.0f); }
};
}  // namespace

TensorSource random_source(const ModelConfig& config, uint64_t seed) {
  auto rng = std::make_shared<FastNormal>(FastNormal{seed * 0x2545F4914F6CDD1Dull + 1});
  return [rng, config, seed](const TensorSpec& spec) -> Result<std::vector<float>> {
    const std::string& n = spec.name;
    if (ends_with(n, ".rotations") || ends_with(n, ".hash_keys")) {
      // LSH rotations drawn as trax draws them, jax.random.normal from a key per head: a layer's
      // heads split fold_in(PRNGKey(seed), FNV-1a of the tensor's name). With a derived bucket
      // count the file keeps the keys themselves (the runtime draws per call).
      uint32_t name_hash = 2166136261u;
      for (unsigned char ch : n) name_hash = (name_hash ^ ch) * 16777619u;
      const jax::Key layer = jax::fold_in(jax::prng_key(int64_t(uint32_t(seed))), name_hash);
      const size_t heads = size_t(spec.source_shape[0]), per_head = size_t(elements(spec.source_shape)) / heads;
      std::vector<float> v(heads * per_head);
      const std::vector<jax::Key> keys = jax::split(layer, heads);
      for (size_t h = 0; h < heads; ++h) {
        if (ends_with(n, ".hash_keys")) jax::key_to_halves(keys[h], &v[h * per_head]);
        else jax::normal_into(keys[h], per_head, &v[h * per_head]);
      }
      return v;
    }
    std::vector<float> v(size_t(elements(spec.source_shape)));
    auto fill_normal = [&](float mean, float stddev) {
      for (float& x : v) x = mean + stddev * (*rng)();
    };
    if (n == "embedding") {
      fill_normal(0, 1);
    } else if (ends_with(n, ".pos.base_weights")) {
      for (float& x : v) x = (rng->uniform() - 0.5f) * 0.1f;  // U(-0.05, 0.05)
    } else if (ends_with(n, ".pos.start_vec") || ends_with(n, ".pos.table")) {
      fill_normal(0, 0.5f);
    } else if (ends_with(n, ".gating")) {
      fill_normal(0, 0.5f);  // trax's FactoredDense initializer
    } else if (spec.transform == Transform::kTransposeLast2) {
      const auto& sh = spec.source_shape;  // conv kernel [lk, kw, M, M]: fan-in lk * kw * M
      fill_normal(0, 1.0f / std::sqrt(float(sh[0] * sh[1] * sh[2])));
    } else if (ends_with(n, ".scale")) {
      fill_normal(1, 0.1f);
    } else if (ends_with(n, ".bias") || ends_with(n, ".mb") || ends_with(n, ".b2")) {
      fill_normal(0, 0.1f);
    } else if (ends_with(n, ".w2") && spec.layout == Layout::kNeuronMajor) {
      fill_normal(0, 1.0f / std::sqrt(float(config.ff_blocks())));  // B units are active per token
    } else {
      fill_normal(0, 1.0f / std::sqrt(float(spec.source_shape[0])));  // fan-in scaling
    }
    return v;
  };
}

Result<DType> parse_dtype(const std::string& name) {
  if (name == "f32") return DType::kF32;
  if (name == "f16") return DType::kF16;
  if (name == "int8" || name == "i8" || name == "q8") return DType::kI8;
  if (name == "int4" || name == "i4" || name == "q4") return DType::kI4;
  return Status::Error(ErrorCode::kInvalidArgument, "unknown dtype '" + name + "' (expected f32, f16, int8 or int4)");
}

DType choose_dtype(const TensorSpec& spec, const ConvertOptions& options) {
  if (!spec.matrix) return DType::kF32;
  DType dt = options.dtype;
  for (const DTypeOverride& o : options.overrides) {
    if (fnmatch(o.pattern.c_str(), spec.name.c_str(), 0) == 0) dt = o.dtype;
  }
  const int64_t cols = spec.stored_shape.empty() ? 1 : spec.stored_shape.back();
  if (!dtype_fits(dt, cols)) dt = DType::kI8;
  return dt;
}

Status convert(const CheckpointConfig& config, const TensorSource& source, const std::string& out_path,
               const ConvertOptions& options, ConvertSummary* summary) {
  const ModelConfig& c = config.model;
  if (config.tokenizer.kind == TokenizerKind::kByte &&
      (config.tokenizer.byte_offset < 0 || int64_t(c.vocab_size) < int64_t(config.tokenizer.byte_offset) + 256)) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         "the byte tokenizer with byte offset " + std::to_string(config.tokenizer.byte_offset) +
                             " needs vocab_size >= offset + 256, config has " + std::to_string(c.vocab_size));
  }
  {  // the runtime must be able to build this tokenizer for this vocabulary
    TokenizerInfo tok = config.tokenizer;
    tok.model = config.tokenizer_model.data();
    tok.model_size = config.tokenizer_model.size();
    auto t = Tokenizer::create(tok, c.vocab_size);
    if (!t.ok()) return Status::Error(t.status().code(), "tokenizer: " + t.status().message());
  }
  if (config.tokenizer.start_id < 0 || config.tokenizer.start_id >= c.vocab_size || config.tokenizer.end_id < 0 ||
      config.tokenizer.end_id >= c.vocab_size) {
    return Status::Error(ErrorCode::kInvalidArgument, "tokenizer start/end ids do not fit the vocabulary");
  }
  const std::vector<TensorSpec> specs = model_tensors(c);
  std::vector<PlannedTensor> plan;
  uint64_t total = 0;
  for (const TensorSpec& s : specs) {
    const DType dt = choose_dtype(s, options);
    const uint64_t cols = s.stored_shape.empty() ? 1 : uint64_t(s.stored_shape.back());
    const uint64_t rows = cols == 0 ? 0 : uint64_t(elements(s.stored_shape)) / cols;
    plan.push_back({s.name, dt, s.layout, s.stored_shape, 0, tensor_bytes(dt, rows, cols)});
    total += plan.back().bytes;
  }
  ModelWriter writer;
  TokenizerInfo tok = config.tokenizer;  // point at this copy's bytes, whatever the caller copied
  tok.model = config.tokenizer_model.data();
  tok.model_size = config.tokenizer_model.size();
  TERRA_RETURN_IF_ERROR(writer.open(out_path, c, tok, config.metadata, plan));
  Progress progress(options.progress, total);
  ConvertSummary sum;
  for (size_t i = 0; i < specs.size(); ++i) {
    TERRA_ASSIGN_OR_RETURN(auto values, source(specs[i]));
    TERRA_RETURN_IF_ERROR(writer.write_next(relayout(specs[i], values)));
    const uint64_t n = uint64_t(elements(specs[i].stored_shape));
    sum.parameters += n;
    sum.parameters_by_kind[kind_of(specs[i].name, c.ff_sparsity > 0)] += n;
    sum.bytes_by_dtype[dtype_name(plan[i].dtype)] += plan[i].bytes;
    progress.advance(plan[i].bytes, specs[i].name);
  }
  TERRA_RETURN_IF_ERROR(writer.finish());
  sum.file_size = writer.file_size();
  if (summary) *summary = sum;
  return Status::Ok();
}

}  // namespace terra
