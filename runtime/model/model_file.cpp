#include "model/model_file.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/quant.h"
#include "model/checksum.h"
#include "model/config_table.h"
#include "model/fb_vector.h"
#include "model/tokenizer_blob.h"
#include "terra_generated.h"

namespace terra {

uint32_t required_format_version(const ModelConfig& c) {
  return c.uses_lsh() && (c.lsh_bias || c.lsh_buckets_derived()) ? 2 : 1;
}

namespace {

Status corrupt(const std::string& path, const std::string& what) {
  return Status::Error(ErrorCode::kCorruptModel, path + ": " + what);
}


}  // namespace

Result<std::unique_ptr<ModelFile>> ModelFile::load(const std::string& path) {
  TERRA_ASSIGN_OR_RETURN(auto mapped, platform::MappedFile::open(path));
  return load(std::move(mapped));
}

Result<std::unique_ptr<ModelFile>> ModelFile::load(std::unique_ptr<platform::MappedFile> mapped) {
  // Tensors are 64-byte aligned relative to the file's first byte: so must that byte be.
  if (reinterpret_cast<uintptr_t>(mapped->data()) % 64 != 0) {
    return Status::Error(ErrorCode::kInvalidArgument,
                         mapped->path() + ": the model starts at an offset that is not a multiple of 64 bytes "
                                          "(store it uncompressed and page-aligned, e.g. zipalign -p)");
  }
  std::unique_ptr<ModelFile> model(new ModelFile());
  model->file_ = std::move(mapped);
  TERRA_RETURN_IF_ERROR(model->parse());
  return model;
}

Status ModelFile::parse() {
  const std::string& p = file_->path();
  const uint8_t* base = file_->data();
  const uint64_t size = file_->size();
  if (size < 8) return corrupt(p, "file of " + std::to_string(size) + " bytes is too short for a model");
  if (!fb::ModelBufferHasIdentifier(base)) {
    std::string id(reinterpret_cast<const char*>(base) + 4, 4);
    for (char& ch : id) {
      if (ch < 32 || ch > 126) ch = '?';
    }
    return corrupt(p, "not a terra model file (identifier '" + id + "', expected '" +
                          fb::ModelIdentifier() + "')");
  }
  // The table sits at the start; the Verifier only asserts on the 2 GiB limit, so bound it here.
  const size_t table_bytes = size_t(std::min<uint64_t>(size, FLATBUFFERS_MAX_BUFFER_SIZE - 1));
  flatbuffers::Verifier verifier(base, table_bytes);
  if (!fb::VerifyModelBuffer(verifier)) {
    return corrupt(p, "the model table fails FlatBuffer verification (truncated or damaged file)");
  }
  const fb::Model* m = fb::GetModel(base);
  if (m->format_version() < 1 || m->format_version() > kFormatVersion) {
    return Status::Error(ErrorCode::kUnsupported,
                         p + ": format version " + std::to_string(m->format_version()) +
                             " (this runtime reads versions 1 to " + std::to_string(kFormatVersion) + ")");
  }
  const uint64_t data_offset = m->data_offset(), data_size = m->data_size();
  if (data_offset % kDataRegionAlignment != 0 || data_offset > size || data_size > size - data_offset) {
    return corrupt(p, "data region [" + std::to_string(data_offset) + ", +" + std::to_string(data_size) +
                          ") does not fit in the file of " + std::to_string(size) + " bytes");
  }
  // The table must lie wholly before the data region: verified again within those bytes only.
  flatbuffers::Verifier table_only(base, size_t(std::min<uint64_t>(data_offset, table_bytes)));
  if (!fb::VerifyModelBuffer(table_only)) {
    return corrupt(p, "the model table overlaps the data region at offset " + std::to_string(data_offset));
  }

  data_offset_ = data_offset;
  config_ = read_config_table(*m->config());
  Status valid = config_.validate();
  if (!valid.ok()) return corrupt(p, valid.message());
  if (required_format_version(config_) > m->format_version()) {
    return corrupt(p, "format version " + std::to_string(m->format_version()) + " cannot hold this config (lsh_bias or a "
                      "derived LSH bucket count need version " + std::to_string(required_format_version(config_)) + ")");
  }

  if (const fb::Tokenizer* t = m->tokenizer()) {
    tokenizer_.kind = TokenizerKind(t->kind());
    tokenizer_.start_id = t->start_id();
    tokenizer_.end_id = t->end_id();
    tokenizer_.byte_offset = t->byte_offset();
    if (t->model()) {
      tokenizer_.model = t->model()->data();
      tokenizer_.model_size = t->model()->size();
    }
  }
  if (tokenizer_.kind != TokenizerKind::kByte && tokenizer_.kind != TokenizerKind::kSentencePiece &&
      tokenizer_.kind != TokenizerKind::kNone && tokenizer_.kind != TokenizerKind::kSubword) {
    return corrupt(p, "unknown tokenizer kind " + std::to_string(int(tokenizer_.kind)));
  }
  // The tokenizer's blob is checked in full now (it is small): tokenizer libraries trust their input.
  if (tokenizer_.model_size > 0) {
    const uint64_t recorded = m->tokenizer()->model_checksum();
    if (recorded != 0 && checksum64(tokenizer_.model, tokenizer_.model_size) != recorded) {
      return corrupt(p, "the tokenizer model is damaged: its bytes do not match the recorded checksum");
    }
  }
  if (tokenizer_.kind == TokenizerKind::kSentencePiece) {
    if (tokenizer_.model_size == 0) return corrupt(p, "the SentencePiece tokenizer has no model");
    auto checked = check_sentencepiece_model(tokenizer_.model, tokenizer_.model_size, config_.vocab_size);
    if (!checked.ok()) return corrupt(p, checked.status().message());
  } else if (tokenizer_.kind == TokenizerKind::kSubword) {
    auto checked = check_subword_vocabulary(tokenizer_.model, tokenizer_.model_size, config_.output_vocab(),
                                            tokenizer_.byte_offset);
    if (!checked.ok()) return corrupt(p, checked.status().message());
  }
  const bool byte_ids_fit = tokenizer_.kind != TokenizerKind::kByte ||
                            (tokenizer_.byte_offset >= 0 && int64_t(tokenizer_.byte_offset) + 256 <= config_.vocab_size);
  if (tokenizer_.start_id < 0 || tokenizer_.start_id >= config_.output_vocab() || tokenizer_.end_id < 0 ||
      tokenizer_.end_id >= config_.output_vocab() || !byte_ids_fit) {
    return corrupt(p, "tokenizer ids (start " + std::to_string(tokenizer_.start_id) + ", end " +
                          std::to_string(tokenizer_.end_id) + ", byte offset " +
                          std::to_string(tokenizer_.byte_offset) + ") do not fit the vocabulary of " +
                          std::to_string(config_.vocab_size));
  }
  if (m->metadata()) {
    for (const fb::KeyValue* kv : *m->metadata()) {
      metadata_[kv->key()->str()] = kv->value() ? kv->value()->str() : "";
    }
  }

  const uint8_t* data = base + data_offset;
  for (const fb::Tensor* t : *m->tensors()) {
    TensorView v;
    v.name = t->name()->str();
    if (by_name_.count(v.name)) return corrupt(p, "tensor '" + v.name + "' appears twice");
    if (t->dtype() < fb::DType::MIN || t->dtype() > fb::DType::MAX) {
      return corrupt(p, "tensor '" + v.name + "' has unknown dtype " + std::to_string(int(t->dtype())));
    }
    v.dtype = DType(t->dtype());
    if (t->layout() < fb::Layout::MIN || t->layout() > fb::Layout::MAX) {
      return corrupt(p, "tensor '" + v.name + "' has unknown layout " + std::to_string(int(t->layout())));
    }
    v.layout = Layout(t->layout());
    uint64_t elements = 1;
    for (int64_t dim : to_vector(t->shape())) {
      if (dim < 0 || dim > (int64_t(1) << 40) || (dim > 0 && elements > (uint64_t(1) << 62) / uint64_t(dim))) {
        return corrupt(p, "tensor '" + v.name + "' has an invalid dimension " + std::to_string(dim));
      }
      elements *= uint64_t(dim);
      v.shape.push_back(dim);
    }
    v.bytes = t->size();
    const uint64_t cols = v.shape.empty() ? 1 : uint64_t(v.shape.back());
    const uint64_t rows = cols == 0 ? 0 : elements / cols;
    if (!dtype_fits(v.dtype, int64_t(cols)) && elements > 0) {
      return corrupt(p, "tensor '" + v.name + "' is " + dtype_name(v.dtype) + " but its rows of " +
                            std::to_string(cols) + " are not a multiple of " + std::to_string(kInt4Block));
    }
    const uint64_t need = tensor_bytes(v.dtype, rows, cols);
    if (v.bytes != need) {
      return corrupt(p, "tensor '" + v.name + "' records " + std::to_string(v.bytes) + " bytes but its shape " +
                            shape_string(v.shape) + " of " + dtype_name(v.dtype) + " needs " + std::to_string(need));
    }
    const uint64_t off = t->offset();
    if (off % kTensorAlignment != 0 || off > data_size || v.bytes > data_size - off) {
      return corrupt(p, "tensor '" + v.name + "' at offset " + std::to_string(off) + " (+" +
                            std::to_string(v.bytes) + " bytes) lies outside the data region of " +
                            std::to_string(data_size) + " bytes or is misaligned");
    }
    v.data = data + off;
    v.checksum = t->checksum();
    by_name_[v.name] = tensors_.size();
    tensors_.push_back(std::move(v));
  }
  // Tensors may not share bytes: a small file could otherwise describe a huge model whose every
  // tensor is the same few bytes (and a session planned from it).
  std::vector<const TensorView*> by_offset;
  for (const TensorView& t : tensors_) {
    if (t.bytes > 0) by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorView* a, const TensorView* b) { return a->data < b->data; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorView& prev = *by_offset[i - 1];
    if (static_cast<const uint8_t*>(prev.data) + prev.bytes > by_offset[i]->data) {
      return corrupt(p, "tensors '" + prev.name + "' and '" + by_offset[i]->name + "' overlap in the data region");
    }
  }
  return Status::Ok();
}

Status ModelFile::verify_checksums() const {
  for (const TensorView& t : tensors_) {
    if (t.checksum != 0 && checksum64(t.data, t.bytes) != t.checksum) {
      return corrupt(path(), "tensor '" + t.name + "' is damaged: its bytes do not match the recorded checksum");
    }
  }
  return Status::Ok();
}

Result<const TensorView*> ModelFile::find(const TensorSpec& spec) const {
  const std::string& p = file_->path();
  auto it = by_name_.find(spec.name);
  if (it == by_name_.end()) return corrupt(p, "required tensor '" + spec.name + "' is missing");
  const TensorView& v = tensors_[it->second];
  if (v.shape != spec.stored_shape) {
    return corrupt(p, "tensor '" + spec.name + "' has shape " + shape_string(v.shape) + ", expected " +
                          shape_string(spec.stored_shape) + " from the config");
  }
  if (v.layout != spec.layout) {
    return corrupt(p, "tensor '" + spec.name + "' has layout " + layout_name(v.layout) + ", expected " +
                          layout_name(spec.layout));
  }
  if (!spec.matrix && v.dtype != DType::kF32) {
    return corrupt(p, "tensor '" + spec.name + "' must be f32, found " + dtype_name(v.dtype));
  }
  return &v;
}

}  // namespace terra
