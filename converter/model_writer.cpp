#include "model_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/quant.h"
#include "model/checksum.h"
#include "model/config_table.h"
#include "terra_generated.h"

namespace terra {

namespace {
// f32 values (stored order) in a narrower dtype, laid out as core/quant.h says.
std::vector<uint8_t> encode_tensor(DType dtype, const float* values, uint64_t rows, uint64_t cols) {
  std::vector<uint8_t> out(tensor_bytes(dtype, rows, cols), 0);
  const uint64_t plane = data_plane_bytes(dtype, rows, cols);
  for (uint64_t r = 0; r < rows; ++r) {
    const float* v = values + r * cols;
    switch (dtype) {
      case DType::kF16: {
        auto* h = reinterpret_cast<uint16_t*>(out.data()) + r * cols;
        for (uint64_t i = 0; i < cols; ++i) h[i] = float_to_half(v[i]);
        break;
      }
      case DType::kI8: {
        const float scale = quantize_row_i8(v, int64_t(cols), reinterpret_cast<int8_t*>(out.data()) + r * cols);
        std::memcpy(out.data() + plane + r * 4, &scale, 4);
        break;
      }
      case DType::kI4: {
        std::vector<uint16_t> scales(cols / kInt4Block);
        quantize_row_i4(v, int64_t(cols), out.data() + r * (cols / 2), scales.data());
        std::memcpy(out.data() + plane + r * scales.size() * 2, scales.data(), scales.size() * 2);
        break;
      }
      case DType::kF32:
        std::memcpy(out.data() + r * cols * 4, v, cols * 4);
        break;
    }
  }
  return out;
}

uint64_t round_up(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }


// The table with a given data_offset; built twice because the offset depends on its own size
// (force_defaults keeps the size independent of the value).
std::vector<uint8_t> build_table(const ModelConfig& config, const TokenizerInfo& tok,
                                 const std::map<std::string, std::string>& metadata,
                                 const std::vector<PlannedTensor>& tensors, uint64_t data_offset, uint64_t data_size) {
  flatbuffers::FlatBufferBuilder b(1 << 16);
  b.ForceDefaults(true);
  auto cfg = write_config_table(b, config);
  auto tok_model = tok.model_size ? b.CreateVector(tok.model, tok.model_size) : 0;
  auto tokenizer = fb::CreateTokenizer(b, fb::TokenizerKind(tok.kind), tok.start_id, tok.end_id, tok.byte_offset,
                                       tok_model, tok.model_size ? checksum64(tok.model, tok.model_size) : 0);
  std::vector<flatbuffers::Offset<fb::Tensor>> ts;
  for (const PlannedTensor& t : tensors) {
    ts.push_back(fb::CreateTensor(b, b.CreateString(t.name), fb::DType(t.dtype), fb::Layout(t.layout),
                                  b.CreateVector(t.shape), t.offset, t.bytes, t.checksum));
  }
  auto tensors_v = b.CreateVector(ts);
  std::vector<flatbuffers::Offset<fb::KeyValue>> kvs;
  for (const auto& [k, v] : metadata) kvs.push_back(fb::CreateKeyValue(b, b.CreateString(k), b.CreateString(v)));
  auto meta_v = b.CreateVector(kvs);
  auto model = fb::CreateModel(b, required_format_version(config), cfg, tokenizer, tensors_v, meta_v, data_offset, data_size);
  fb::FinishModelBuffer(b, model);
  return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

}  // namespace

ModelWriter::~ModelWriter() {
  if (out_ != nullptr) {  // abandoned: leave no half-written file behind
    std::fclose(out_);
    std::remove(temp_path_.c_str());
  }
}

std::vector<uint8_t> ModelWriter::table(uint64_t data_offset) const {
  return build_table(config_, tokenizer_, metadata_, tensors_, data_offset, data_size_);
}

Status ModelWriter::open(const std::string& path, const ModelConfig& config, const TokenizerInfo& tokenizer,
                         const std::map<std::string, std::string>& metadata, std::vector<PlannedTensor> tensors) {
  path_ = path;
  temp_path_ = path + ".partial";
  config_ = config;
  tokenizer_ = tokenizer;
  metadata_ = metadata;
  tensors_ = std::move(tensors);
  data_size_ = 0;
  for (PlannedTensor& t : tensors_) {
    t.offset = data_size_;
    data_size_ = round_up(data_size_ + t.bytes, kTensorAlignment);
  }
  std::vector<uint8_t> first = table(0);
  if (first.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return Status::Error(ErrorCode::kInvalidArgument, path + ": the model table exceeds 2 GiB");
  }
  data_offset_ = round_up(first.size(), kDataRegionAlignment);
  out_ = std::fopen(temp_path_.c_str(), "wb");
  if (out_ == nullptr) return Status::Error(ErrorCode::kIo, temp_path_ + ": cannot create: " + std::strerror(errno));
  // A placeholder table of the final size; finish() rewrites it with the checksums.
  std::vector<uint8_t> pad(data_offset_, 0);
  TERRA_RETURN_IF_ERROR(write_bytes(pad.data(), pad.size()));
  file_size_ = data_offset_ + data_size_;
  return Status::Ok();
}

Status ModelWriter::write_bytes(const void* p, size_t n) {
  if (n > 0 && std::fwrite(p, 1, n, out_) != n) {
    return Status::Error(ErrorCode::kIo, temp_path_ + ": write failed: " + std::strerror(errno));
  }
  return Status::Ok();
}

Status ModelWriter::write_data(const void* p, size_t n) {
  // Whole zero pages are skipped with a seek, leaving holes (sparse files for big zero tensors).
  const auto* bytes = static_cast<const uint8_t*>(p);
  constexpr size_t kPage = 4096;
  static const uint8_t zero_page[kPage] = {};
  size_t i = 0;
  while (i < n) {
    const size_t chunk = std::min(kPage, n - i);
    if (chunk == kPage && std::memcmp(bytes + i, zero_page, kPage) == 0) {
      if (std::fseek(out_, long(kPage), SEEK_CUR) != 0) {
        return Status::Error(ErrorCode::kIo, temp_path_ + ": seek failed: " + std::strerror(errno));
      }
    } else {
      TERRA_RETURN_IF_ERROR(write_bytes(bytes + i, chunk));
    }
    i += chunk;
  }
  return Status::Ok();
}

Status ModelWriter::write_next(const float* values, size_t count) {
  if (next_ >= tensors_.size()) return Status::Error(ErrorCode::kInvalidArgument, "more tensors than planned");
  PlannedTensor& t = tensors_[next_++];
  const uint64_t cols = t.shape.empty() ? 1 : uint64_t(t.shape.back());
  const uint64_t rows = cols == 0 ? 0 : uint64_t(count) / cols;
  if (rows * cols != count || tensor_bytes(t.dtype, rows, cols) != t.bytes) {
    return Status::Error(ErrorCode::kInvalidArgument, "tensor '" + t.name + "': " + std::to_string(count) +
                                                          " values do not match its planned size");
  }
  static const uint8_t zeros[kTensorAlignment] = {};
  TERRA_RETURN_IF_ERROR(write_bytes(zeros, t.offset - written_));  // alignment padding
  std::vector<uint8_t> encoded;
  const void* bytes = values;
  if (t.dtype != DType::kF32) {
    encoded = encode_tensor(t.dtype, values, rows, cols);
    bytes = encoded.data();
  }
  t.checksum = checksum64(bytes, t.bytes);
  TERRA_RETURN_IF_ERROR(write_data(bytes, t.bytes));
  written_ = t.offset + t.bytes;
  return Status::Ok();
}

Status ModelWriter::finish() {
  if (next_ != tensors_.size()) return Status::Error(ErrorCode::kInvalidArgument, "not every tensor was written");
  std::vector<uint8_t> pad(data_size_ - written_, 0);
  TERRA_RETURN_IF_ERROR(write_bytes(pad.data(), pad.size()));
  // A trailing hole is not part of the file until something extends it.
  if (std::fflush(out_) != 0 || ftruncate(fileno(out_), off_t(file_size_)) != 0) {
    return Status::Error(ErrorCode::kIo, temp_path_ + ": cannot set the file size: " + std::strerror(errno));
  }
  const std::vector<uint8_t> final_table = table(data_offset_);
  if (round_up(final_table.size(), kDataRegionAlignment) != data_offset_) {
    return Status::Error(ErrorCode::kInvalidArgument, path_ + ": internal error: the table changed size");
  }
  if (std::fseek(out_, 0, SEEK_SET) != 0) {
    return Status::Error(ErrorCode::kIo, temp_path_ + ": seek failed: " + std::strerror(errno));
  }
  TERRA_RETURN_IF_ERROR(write_bytes(final_table.data(), final_table.size()));
  const bool closed = std::fclose(out_) == 0;
  out_ = nullptr;
  if (!closed || std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    std::remove(temp_path_.c_str());
    return Status::Error(ErrorCode::kIo, path_ + ": cannot finish writing: " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace terra
