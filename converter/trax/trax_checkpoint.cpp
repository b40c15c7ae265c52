#include "trax/trax_checkpoint.h"

#include <cstring>

#include "core/dtype.h"
#include "platform/platform.h"

namespace terra::trax {

namespace {

using Kind = PyObject::Kind;

Status bad(const std::string& path, const std::string& what) {
  return Status::Error(ErrorCode::kCorruptModel, path + ": " + what);
}

Array from_ndarray(const NdArray& a) {
  Array out;
  out.dtype = a.dtype;
  out.shape = a.shape;
  out.data = a.data;
  out.bytes = a.bytes;
  return out;
}

// One entry of flat_weights / flat_state: an array, or ('Oct-28-2020') a (uint16 array, 'bfloat16') pair.
Result<Array> leaf(const PyRef& v, const std::string& path, const std::string& where) {
  if (v->kind == Kind::kArray) {
    if (v->array.fortran && v->array.shape.size() > 1) return bad(path, where + " is stored in Fortran order");
    return from_ndarray(v->array);
  }
  if (v->kind == Kind::kTuple && v->items.size() == 2 && v->items[0]->kind == Kind::kArray &&
      v->items[1]->kind == Kind::kStr && v->items[1]->text == "bfloat16") {
    Array a = from_ndarray(v->items[0]->array);
    a.bfloat16 = true;
    return a;
  }
  return bad(path, where + " is " + v->describe() + ", not an array");
}

// strict: every entry must be an array (weights); else entries that are not are skipped (state
// holds counters and flags as well as arrays).
Result<std::vector<Array>> leaves(const PyRef& list, const std::string& path, const std::string& what, bool strict) {
  std::vector<Array> out;
  if (list == nullptr || list->kind == Kind::kNone) return out;
  if (list->kind != Kind::kList && list->kind != Kind::kTuple) {
    return bad(path, what + " is " + list->describe() + ", not a list of arrays");
  }
  for (size_t i = 0; i < list->items.size(); ++i) {
    // Empty state (a layer's () state) flattens to nothing.
    if ((list->items[i]->kind == Kind::kTuple || list->items[i]->kind == Kind::kList) && list->items[i]->items.empty()) {
      continue;
    }
    auto a = leaf(list->items[i], path, what + "[" + std::to_string(i) + "]");
    if (!a.ok() && !strict) continue;
    if (!a.ok()) return a.status();
    out.push_back(a.take());
  }
  return out;
}

}  // namespace

int64_t Array::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Result<std::vector<float>> Array::to_f32() const {
  const std::string t = dtype.size() > 1 && (dtype[0] == '<' || dtype[0] == '|' || dtype[0] == '=') ? dtype.substr(1) : dtype;
  const size_t n = size_t(elements());
  std::vector<float> out(n);
  auto each = [&](size_t size, auto convert) -> Result<std::vector<float>> {
    if (bytes != uint64_t(n) * size) {
      return Status::Error(ErrorCode::kCorruptModel, "an array of " + std::to_string(n) + " " + t + " holds " +
                                                         std::to_string(bytes) + " bytes");
    }
    for (size_t i = 0; i < n; ++i) out[i] = convert(data + i * size);
    return std::move(out);
  };
  if (t == "f4") return each(4, [](const uint8_t* p) { float f; std::memcpy(&f, p, 4); return f; });
  if (t == "f8") return each(8, [](const uint8_t* p) { double f; std::memcpy(&f, p, 8); return float(f); });
  if (t == "f2") return each(2, [](const uint8_t* p) { uint16_t h; std::memcpy(&h, p, 2); return half_to_float(h); });
  if (t == "u2") {  // trax stores every bfloat16 array as its uint16 bits ("all uint16 are bfloat16s")
    return each(2, [](const uint8_t* p) {
      uint16_t h;
      std::memcpy(&h, p, 2);
      const uint32_t bits = uint32_t(h) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    });
  }
  if (t == "i4") return each(4, [](const uint8_t* p) { int32_t v; std::memcpy(&v, p, 4); return float(v); });
  return Status::Error(ErrorCode::kUnsupported, "weights of dtype '" + dtype + "' are not read (f32, f64, f16, bfloat16)");
}

Result<std::unique_ptr<Checkpoint>> Checkpoint::open(const std::string& given) {
  std::string path = given;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (!platform::path_exists(path)) return Status::Error(ErrorCode::kIo, path + ": cannot open: no such file");
  if (platform::path_exists(path + "/model.pkl.gz")) path += "/model.pkl.gz";
  if (platform::path_exists(path + ".shard0") && !platform::path_exists(path)) {
    return Status::Error(ErrorCode::kUnsupported, path + ": sharded checkpoints (model.pkl.gz.shard*) are not read");
  }
  TERRA_ASSIGN_OR_RETURN(auto pickle, GzipFile::open(path));
  std::unique_ptr<Checkpoint> c(new Checkpoint());
  c->path_ = path;
  c->pickle_file_ = std::move(pickle);
  // Where trax's init_from_file looks for the weights of a checkpoint that keeps them outside.
  std::string weights = path.size() > 7 && path.compare(path.size() - 7, 7, ".pkl.gz") == 0
                            ? path.substr(0, path.size() - 6) + "weights.npy.gz"
                            : path + ".npy";
  if (!platform::path_exists(weights)) weights = path + ".npy";
  TERRA_RETURN_IF_ERROR(c->parse(weights, nullptr, 0));
  return c;
}

Result<std::unique_ptr<Checkpoint>> Checkpoint::from_memory(const uint8_t* pickle_gz, size_t pickle_size,
                                                            const uint8_t* weights_gz, size_t weights_size) {
  TERRA_ASSIGN_OR_RETURN(auto pickle, GzipFile::from_memory(pickle_gz, pickle_size, "model.pkl.gz"));
  std::unique_ptr<Checkpoint> c(new Checkpoint());
  c->path_ = "model.pkl.gz";
  c->pickle_file_ = std::move(pickle);
  TERRA_RETURN_IF_ERROR(c->parse("", weights_gz, weights_size));
  return c;
}

Result<std::unique_ptr<Checkpoint>> Checkpoint::from_bytes(const uint8_t* pickle, size_t pickle_size, const uint8_t* npy,
                                                           size_t npy_size) {
  std::unique_ptr<Checkpoint> c(new Checkpoint());
  c->path_ = "model.pkl";
  TERRA_RETURN_IF_ERROR(c->parse_pickle(pickle, pickle_size));
  if (c->root_->get("flat_weights")->kind == PyObject::Kind::kInt) {
    TERRA_RETURN_IF_ERROR(c->read_npy(npy, npy_size, "model.weights.npy", ""));
  }
  return c;
}

Status Checkpoint::read_npy(const uint8_t* data, size_t size, const std::string& name, const std::string& stamp) {
  TERRA_ASSIGN_OR_RETURN(auto records, parse_npy_records(data, size, name));
  for (const NpyRecord& r : records) {
    if (r.fortran && r.shape.size() > 1) return bad(name, "a weight is stored in Fortran order");
    weights_.push_back({r.dtype, false, r.shape, r.data, r.bytes});
  }
  layout_ = "trax training.Loop: " + name + " beside the pickle" + stamp;
  return Status::Ok();
}

Status Checkpoint::parse(const std::string& weights_path, const uint8_t* weights_gz, size_t weights_size) {
  TERRA_RETURN_IF_ERROR(parse_pickle(pickle_file_->data(), pickle_file_->size()));
  const PyRef flat = root_->get("flat_weights");
  const PyRef version = root_->get("version_timestamp");
  const std::string stamp = version && version->kind == Kind::kStr ? " ('" + version->text + "')" : "";
  if (flat->kind != Kind::kInt) return Status::Ok();  // the weights were inside the pickle
  std::unique_ptr<GzipFile> file;
  std::string name = weights_path;
  if (weights_gz != nullptr) {
    TERRA_ASSIGN_OR_RETURN(auto g, GzipFile::from_memory(weights_gz, weights_size, "model.weights.npy.gz"));
    file = std::move(g);
    name = "model.weights.npy.gz";
  } else {
    if (!platform::path_exists(weights_path)) {
      return Status::Error(ErrorCode::kIo, path_ + ": its weights are kept in a separate file, and " + weights_path +
                                               " does not exist");
    }
    TERRA_ASSIGN_OR_RETURN(auto g, GzipFile::open(weights_path));
    file = std::move(g);
  }
  TERRA_RETURN_IF_ERROR(read_npy(file->data(), file->size(), name, stamp));
  weights_file_ = std::move(file);
  return Status::Ok();
}

Status Checkpoint::parse_pickle(const uint8_t* data, size_t size) {
  TERRA_ASSIGN_OR_RETURN(auto tree, unpickle(data, size, path_));
  tree_ = std::move(tree);
  root_ = tree_->root;
  if (root_->kind != Kind::kDict) return bad(path_, "holds " + root_->describe() + ", not trax's checkpoint dict");
  const PyRef flat = root_->get("flat_weights");
  if (flat == nullptr) return bad(path_, "has no flat_weights: not a trax checkpoint");
  if (const PyRef step = root_->get("step"); step && step->kind == Kind::kInt) step_ = step->integer;
  const PyRef version = root_->get("version_timestamp");
  const std::string stamp = version && version->kind == Kind::kStr ? " ('" + version->text + "')" : "";
  if (flat->kind != Kind::kInt) {  // the weights inside the pickle
    TERRA_ASSIGN_OR_RETURN(auto w, leaves(flat, path_, "flat_weights", true));
    weights_ = std::move(w);
    layout_ = "trax pickle with flat_weights inside" + stamp;
  }
  TERRA_ASSIGN_OR_RETURN(auto s, leaves(root_->get("flat_state"), path_, "flat_state", false));
  state_ = std::move(s);
  return Status::Ok();
}

}  // namespace terra::trax
