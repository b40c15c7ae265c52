#include "trax/trax_import.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "config_json.h"
#include "platform/platform.h"
#include "core/jax_random.h"
#include "trax/npy.h"

namespace terra::trax {

namespace {

// Shapes equal up to dimensions of size 1 (old checkpoints keep a leading 1: [1, max_len, d]).
std::vector<int64_t> squeezed(const std::vector<int64_t>& s) {
  std::vector<int64_t> out;
  for (int64_t d : s) {
    if (d != 1) out.push_back(d);
  }
  return out;
}

Status leaf_error(const std::string& name, size_t index, const Leaf& leaf, const std::string& what) {
  return Status::Error(ErrorCode::kInvalidArgument,
                       name + ": leaf " + std::to_string(index) + " (for terra tensor '" +
                           (leaf.tensor.empty() ? "(unused)" : leaf.tensor) + "') " + what);
}

Status vocabulary(const ImportOptions& o, CheckpointConfig* cc) {
  TokenizerInfo& t = cc->tokenizer;
  const int V = cc->model.output_vocab();
  if (o.vocab == "none") {
    t.kind = TokenizerKind::kNone;
    t.start_id = 0;
    t.end_id = V > 1 ? 1 : 0;  // trax's eos_id default
    if (o.n_reserved_ids > 0) {
      return Status::Error(ErrorCode::kInvalidArgument, "--n-reserved-ids needs a vocabulary (--vocab)");
    }
    return Status::Ok();
  }
  if (o.vocab == "char") {  // trax's 'char' vocabulary: byte b is id b + n_reserved_ids
    t.kind = TokenizerKind::kByte;
    t.byte_offset = o.n_reserved_ids < 0 ? 2 : o.n_reserved_ids;
    t.start_id = 0;
    t.end_id = 1;
    if (int64_t(t.byte_offset) + 256 > V) {
      return Status::Error(ErrorCode::kInvalidArgument, "--vocab char needs a vocabulary of n_reserved_ids + 256 = " +
                                                            std::to_string(t.byte_offset + 256) + " ids, the model has " +
                                                            std::to_string(V));
    }
    return Status::Ok();
  }
  TERRA_ASSIGN_OR_RETURN(auto bytes, platform::read_file(o.vocab, kMaxTokenizerBytes));
  if (o.vocab.size() > 6 && o.vocab.compare(o.vocab.size() - 6, 6, ".model") == 0) {
    if (o.n_reserved_ids > 0) {
      return Status::Error(ErrorCode::kUnsupported, "--n-reserved-ids with a SentencePiece vocabulary is not supported");
    }
    t.kind = TokenizerKind::kSentencePiece;  // T5's convention: pad 0 (the start id), EOS 1
    t.start_id = 0;
    t.end_id = 1;
    cc->tokenizer_model.assign(bytes.begin(), bytes.end());
    return Status::Ok();
  }
  if (o.vocab.size() > 8 && o.vocab.compare(o.vocab.size() - 8, 8, ".subword") == 0) {
    t.kind = TokenizerKind::kSubword;  // T2T SubwordTextEncoder: '<pad>' 0, '<EOS>' 1, ids + n_reserved_ids
    t.byte_offset = std::max(o.n_reserved_ids, 0);
    t.start_id = 0;
    t.end_id = 1;  // trax's eos_id
    cc->tokenizer_model.assign(bytes.begin(), bytes.end());
    return Status::Ok();
  }
  return Status::Error(ErrorCode::kUnsupported, "--vocab " + o.vocab +
                                                    ": give none, char, a SentencePiece .model or a T2T .subword file");
}

// Each LSH layer's state keys, uint32 [slots, 2] with slot = example * heads + head: from
// --lsh-keys, or the checkpoint's state, where each LSH layer keeps (buckets, keys) and nothing
// else in a Terraformer's state is a [n, 2] uint32 array.
Result<std::vector<std::vector<uint32_t>>> lsh_keys(const ModelDescription& model, const Checkpoint& c,
                                                    const std::string& folder) {
  std::vector<std::vector<uint32_t>> keys;
  auto take = [&](const Array& a, const LshLayer& layer, const std::string& where) -> Status {
    if (a.dtype != "<u4" || a.shape.size() != 2 || a.shape[1] != 2 || a.shape[0] < layer.heads ||
        a.shape[0] % layer.heads != 0) {
      return Status::Error(ErrorCode::kInvalidArgument, where + ": expected uint32 keys [n * " +
                                                            std::to_string(layer.heads) + ", 2], found " + a.dtype +
                                                            " " + shape_string(a.shape));
    }
    std::vector<uint32_t> k(size_t(layer.heads) * 2);
    std::memcpy(k.data(), a.data, k.size() * sizeof(uint32_t));  // batch slot 0: the first heads rows
    keys.push_back(std::move(k));
    return Status::Ok();
  };
  if (!folder.empty()) {
    for (const LshLayer& layer : model.lsh) {
      const std::string path = folder + "/" + layer.prefix + ".npy";
      TERRA_ASSIGN_OR_RETURN(auto bytes, platform::read_file(path, uint64_t(1) << 20));
      TERRA_ASSIGN_OR_RETURN(auto records, parse_npy_records(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                             bytes.size(), path));
      if (records.size() != 1) return Status::Error(ErrorCode::kInvalidArgument, path + ": expected one array");
      Array a;
      a.dtype = records[0].dtype;
      a.shape = records[0].shape;
      a.data = records[0].data;
      a.bytes = records[0].bytes;
      TERRA_RETURN_IF_ERROR(take(a, layer, path));
    }
    return keys;
  }
  std::vector<const Array*> found;
  for (const Array& a : c.state()) {
    if (a.dtype == "<u4" && a.shape.size() == 2 && a.shape[1] == 2) found.push_back(&a);
  }
  if (found.size() != model.lsh.size()) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         c.path() + ": the model has " + std::to_string(model.lsh.size()) +
                             " LSH layers, the checkpoint's state holds " + std::to_string(found.size()) +
                             " key arrays; give the keys with --lsh-keys");
  }
  for (size_t i = 0; i < found.size(); ++i) {
    TERRA_RETURN_IF_ERROR(take(*found[i], model.lsh[i], c.path() + ": state keys of " + model.lsh[i].prefix));
  }
  return keys;
}

// trax's rotations of one layer, [heads, dk, columns]: normal(key, [dk, n_hashes, rot / 2])
// per head; the encoder (eval mode) hashes with the second key of split(key). With a derived
// count, the keys hashed with instead, [heads, 4] as 16-bit halves (the runtime draws per call).
std::vector<float> lsh_hash_tensor(const LshLayer& layer, const std::vector<uint32_t>& keys) {
  std::vector<float> out;
  out.reserve(size_t(layer.heads * (layer.derived ? 4 : layer.dk * layer.columns)));
  for (int64_t h = 0; h < layer.heads; ++h) {
    jax::Key key{keys[size_t(2 * h)], keys[size_t(2 * h + 1)]};
    if (layer.encoder) key = jax::split(key, 2)[1];
    if (layer.derived) {
      float halves[4];
      jax::key_to_halves(key, halves);
      out.insert(out.end(), halves, halves + 4);
      continue;
    }
    const std::vector<float> r = jax::normal(key, size_t(layer.dk * layer.columns));
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

}  // namespace

Status match_leaves(const ModelDescription& model, const std::vector<Array>& leaves, const std::string& name) {
  const std::vector<Leaf>& want = model.leaves;
  for (size_t i = 0; i < std::min(want.size(), leaves.size()); ++i) {
    const Leaf& w = want[i];
    const Array& a = leaves[i];
    const bool same = squeezed(a.shape) == squeezed(w.shape);
    if (!same) {
      return leaf_error(name, i, w, "has shape " + shape_string(a.shape) + ", the " + model.model_class +
                                        " of this config.gin has " + shape_string(w.shape));
    }
  }
  if (want.size() != leaves.size()) {
    const size_t i = std::min(want.size(), leaves.size());
    const std::string next = i < want.size() ? " (the next one is for '" + want[i].tensor + "' " + shape_string(want[i].shape) + ")"
                                             : " (the next one in the checkpoint is " + shape_string(leaves[i].shape) + ")";
    return Status::Error(ErrorCode::kInvalidArgument,
                         name + ": the checkpoint has " + std::to_string(leaves.size()) + " weight leaves, the " +
                             model.model_class + " of this config.gin has " + std::to_string(want.size()) + next);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Imported>> import_trax(const std::string& checkpoint, const ImportOptions& options) {
  auto imported = std::make_unique<Imported>();
  TERRA_ASSIGN_OR_RETURN(auto ckpt, Checkpoint::open(checkpoint));
  imported->checkpoint = std::move(ckpt);
  const Checkpoint& c = *imported->checkpoint;
  std::string gin_path = options.gin_path;
  if (gin_path.empty()) {
    const std::string& p = c.path();
    gin_path = (p.find('/') == std::string::npos ? "." : p.substr(0, p.rfind('/'))) + "/config.gin";
    if (!platform::path_exists(gin_path)) {
      return Status::Error(ErrorCode::kIo, gin_path + ": no config.gin beside the checkpoint; give one with --gin");
    }
  }
  TERRA_ASSIGN_OR_RETURN(auto gin, GinConfig::parse_file(gin_path));
  std::string cls = options.model_class;
  if (cls.empty()) {
    TERRA_ASSIGN_OR_RETURN(auto found, find_model_class(gin));
    cls = std::move(found);
  }
  if (c.weights().empty()) return Status::Error(ErrorCode::kCorruptModel, c.path() + ": the checkpoint holds no weights");
  TERRA_ASSIGN_OR_RETURN(auto described, describe_model(gin, cls, c.weights()[0].shape.empty() ? 0 : c.weights()[0].shape[0]));
  imported->model = std::move(described);
  TERRA_RETURN_IF_ERROR(match_leaves(imported->model, c.weights(), c.path()));

  CheckpointConfig& cc = imported->config;
  cc.model = imported->model.config;
  TERRA_RETURN_IF_ERROR(vocabulary(options, &cc));
  cc.tokenizer.model = cc.tokenizer_model.data();
  cc.tokenizer.model_size = cc.tokenizer_model.size();
  cc.metadata["source"] = "trax " + imported->model.model_class + " checkpoint " + c.path() + " (step " +
                          std::to_string(c.step()) + ", " + c.layout() + ")";

  // Which leaves make each terra tensor.
  std::map<std::string, std::vector<size_t>> parts;
  for (size_t i = 0; i < imported->model.leaves.size(); ++i) {
    const Leaf& leaf = imported->model.leaves[i];
    if (leaf.op != Leaf::Op::kIgnore) parts[leaf.tensor].push_back(i);
  }
  for (const std::string& z : imported->model.zeros) parts[z];  // no leaves: zeros
  // LSH rotations: computed from the layers' keys (docs/lsh-attention.md).
  std::map<std::string, std::vector<float>> hashing;  // LSH rotations or keys, computed here
  if (!imported->model.lsh.empty()) {
    TERRA_ASSIGN_OR_RETURN(auto keys, lsh_keys(imported->model, c, options.lsh_keys));
    for (size_t i = 0; i < keys.size(); ++i) {
      const LshLayer& layer = imported->model.lsh[i];
      const std::string tensor = layer.prefix + (layer.derived ? ".hash_keys" : ".rotations");
      hashing[tensor] = lsh_hash_tensor(layer, keys[i]);
      parts[tensor];
    }
    imported->model.notes.push_back(
        "LSH rotations computed with JAX's normal (or, with a derived bucket count, the keys kept for the runtime "
        "to draw them per call) from " +
        (options.lsh_keys.empty() ? "the keys in the checkpoint's state (trax's own decoding draws fresh keys unless "
                                    "its Python random module is seeded; --lsh-keys gives others)"
                                  : "the keys in " + options.lsh_keys));
  }
  for (const TensorSpec& spec : model_tensors(cc.model)) {
    if (!parts.count(spec.name)) {
      return Status::Error(ErrorCode::kInvalidArgument, "internal: terra tensor '" + spec.name +
                                                            "' has no trax leaf for a " + imported->model.model_class);
    }
  }
  const Imported* self = imported.get();
  imported->source = [self, parts, hashing](const TensorSpec& spec) -> Result<std::vector<float>> {
    int64_t n = 1;
    for (int64_t d : spec.source_shape) n *= d;
    if (auto r = hashing.find(spec.name); r != hashing.end()) return r->second;
    const std::vector<size_t>& from = parts.at(spec.name);
    if (from.empty()) return std::vector<float>(size_t(n), 0.0f);
    std::vector<float> out;
    out.reserve(size_t(n));
    int means = 0;  // kMean leaves summed into `out` so far
    for (size_t i : from) {
      const Leaf& leaf = self->model.leaves[i];
      auto values = self->checkpoint->weights()[i].to_f32();
      if (!values.ok()) {
        return Status::Error(values.status().code(), self->checkpoint->path() + ": leaf " + std::to_string(i) + " ('" +
                                                         spec.name + "'): " + values.status().message());
      }
      if (leaf.op == Leaf::Op::kHeadsIn) {  // [H, d, dh] -> [d, H*dh]
        const int64_t H = leaf.shape[0], d = leaf.shape[1], dh = leaf.shape[2];
        std::vector<float> t(values.value().size());
        for (int64_t h = 0; h < H; ++h) {
          for (int64_t r = 0; r < d; ++r) {
            for (int64_t j = 0; j < dh; ++j) t[size_t((r * H + h) * dh + j)] = values.value()[size_t((h * d + r) * dh + j)];
          }
        }
        out.insert(out.end(), t.begin(), t.end());
      } else if (leaf.op == Leaf::Op::kMean) {  // summed here, divided below
        const std::vector<float>& v = values.value();
        if (means == 0 && out.empty()) {
          out = v;
        } else if (means == 0 || out.size() != v.size()) {
          return Status::Error(ErrorCode::kInvalidArgument, "internal: terra tensor '" + spec.name +
                                                                "' mixes averaged and other leaves, or leaves of other sizes");
        } else {
          for (size_t j = 0; j < out.size(); ++j) out[j] += v[j];
        }
        ++means;
      } else if (means > 0) {
        return Status::Error(ErrorCode::kInvalidArgument,
                             "internal: terra tensor '" + spec.name + "' mixes averaged and other leaves");
      } else {  // whole, a part in order, or [H, dv, d] -> [H*dv, d] (the same order)
        out.insert(out.end(), values.value().begin(), values.value().end());
      }
    }
    if (means > 1) {
      for (float& x : out) x /= float(means);
    }
    if (int64_t(out.size()) != n) {
      return Status::Error(ErrorCode::kInvalidArgument, "terra tensor '" + spec.name + "' needs " + std::to_string(n) +
                                                            " values, its trax leaves hold " + std::to_string(out.size()));
    }
    return out;
  };
  return imported;
}

}  // namespace terra::trax
