#include "safetensors.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "json_input.h"

namespace terra {

namespace {
Status bad(const std::string& path, const std::string& what) {
  return Status::Error(ErrorCode::kCorruptModel, path + ": " + what);
}
size_t element_size(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL") return 1;
  return 0;
}
}  // namespace

Result<std::unique_ptr<SafetensorsFile>> SafetensorsFile::open(const std::string& path) {
  TERRA_ASSIGN_OR_RETURN(auto mapped, platform::MappedFile::open(path));
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->file_ = std::move(mapped);
  const uint8_t* base = f->file_->data();
  const uint64_t size = f->file_->size();
  if (size < 8) return bad(path, "too short for a safetensors file");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | base[i];
  if (header_len > size - 8) return bad(path, "header length " + std::to_string(header_len) + " exceeds the file");
  const uint8_t* data = base + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  auto parsed = parse_json(std::string(reinterpret_cast<const char*>(base) + 8, size_t(header_len)), "the header");
  if (!parsed.ok()) return bad(path, parsed.status().message());
  const nlohmann::json& header = parsed.value();
  if (!header.is_object()) return bad(path, "the header is not a JSON object");
  for (auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (value.is_object()) {
        for (auto& [k, v] : value.items()) {
          if (v.is_string()) f->metadata_[k] = v.get<std::string>();
        }
      }
      continue;
    }
    if (!value.is_object() || !value.contains("dtype") || !value["dtype"].is_string() || !value.contains("shape") ||
        !value["shape"].is_array() || !value.contains("data_offsets") || !value["data_offsets"].is_array() ||
        value["data_offsets"].size() != 2) {
      return bad(path, "tensor '" + name + "' has a malformed header entry");
    }
    SafetensorsEntry e;
    e.dtype = value["dtype"].get<std::string>();
    uint64_t elements = 1;
    for (auto& dim : value["shape"]) {
      if (!dim.is_number_unsigned() || dim.get<uint64_t>() > (uint64_t(1) << 40)) {
        return bad(path, "tensor '" + name + "' has an invalid dimension");
      }
      e.shape.push_back(dim.get<int64_t>());
      elements *= dim.get<uint64_t>();
    }
    auto& offs = value["data_offsets"];
    if (!offs[0].is_number_unsigned() || !offs[1].is_number_unsigned()) {
      return bad(path, "tensor '" + name + "' has invalid data offsets");
    }
    const uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
    if (begin > end || end > data_size) return bad(path, "tensor '" + name + "' lies outside the file");
    const size_t es = element_size(e.dtype);
    if (es == 0) return bad(path, "tensor '" + name + "' has unsupported dtype " + e.dtype);
    if (end - begin != elements * es) {
      return bad(path, "tensor '" + name + "' holds " + std::to_string(end - begin) + " bytes, its shape needs " +
                           std::to_string(elements * es));
    }
    e.data = data + begin;
    e.bytes = end - begin;
    f->entries_[name] = std::move(e);
  }
  return f;
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

Result<std::vector<float>> SafetensorsFile::read_f32(const std::string& name) const {
  const SafetensorsEntry* e = find(name);
  if (!e) return bad(path(), "tensor '" + name + "' is missing");
  std::vector<float> out;
  if (e->dtype == "F32") {
    out.resize(e->bytes / 4);
    std::memcpy(out.data(), e->data, e->bytes);
  } else if (e->dtype == "F16" || e->dtype == "BF16") {
    out.resize(e->bytes / 2);
    for (size_t i = 0; i < out.size(); ++i) {
      uint16_t h;
      std::memcpy(&h, e->data + 2 * i, 2);
      if (e->dtype == "F16") {
        out[i] = half_to_float(h);
      } else {
        const uint32_t bits = uint32_t(h) << 16;
        std::memcpy(&out[i], &bits, 4);
      }
    }
  } else {
    return bad(path(), "tensor '" + name + "' has dtype " + e->dtype + ", expected F32, F16 or BF16");
  }
  return out;
}

Result<std::vector<int32_t>> SafetensorsFile::read_i32(const std::string& name) const {
  const SafetensorsEntry* e = find(name);
  if (!e) return bad(path(), "tensor '" + name + "' is missing");
  if (e->dtype != "I32") return bad(path(), "tensor '" + name + "' has dtype " + e->dtype + ", expected I32");
  std::vector<int32_t> out(e->bytes / 4);
  std::memcpy(out.data(), e->data, e->bytes);
  return out;
}

}  // namespace terra
