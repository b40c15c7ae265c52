#include "model_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/quant.h"
#include "model/checksum.h"
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

flatbuffers::Offset<fb::Config> build_config(flatbuffers::FlatBufferBuilder& b, const ModelConfig& c) {
  std::vector<fb::AttentionType> types;
  for (AttentionType t : c.decoder_attention_types) types.push_back(fb::AttentionType(t));
  auto types_v = b.CreateVector(types);
  auto bases_v = b.CreateVector(c.pos_bases);
  fb::ConfigBuilder cb(b);
  cb.add_vocab_size(c.vocab_size);
  cb.add_d_model(c.d_model);
  cb.add_d_ff(c.d_ff);
  cb.add_n_heads(c.n_heads);
  cb.add_n_encoder_layers(c.n_encoder_layers);
  cb.add_n_decoder_layers(c.n_decoder_layers);
  cb.add_n_decoder_attention_layers(c.n_decoder_attention_layers);
  cb.add_decoder_attention_types(types_v);
  cb.add_encoder_attention_type(fb::AttentionType(c.encoder_attention_type));
  cb.add_ff_sparsity(c.ff_sparsity);
  cb.add_d_lowrank(c.d_lowrank);
  cb.add_sru_layers(c.sru_layers);
  cb.add_sru_width(c.sru_width);
  cb.add_qkv_sparsity(c.qkv_sparsity);
  cb.add_qkv_kernel_size(c.qkv_kernel_size);
  cb.add_qkv_length_kernel(c.qkv_length_kernel);
  cb.add_loss_sparsity(c.loss_sparsity);
  cb.add_pos_encoding(fb::PosEncoding(c.pos_encoding));
  cb.add_pos_bases(bases_v);
  cb.add_pos_n_digits(c.pos_n_digits);
  cb.add_center_layernorm(c.center_layernorm);
  cb.add_layernorm_eps(c.layernorm_eps);
  cb.add_max_len(c.max_len);
  cb.add_reversible_encoder(c.reversible_encoder);
  cb.add_lsh_chunk_len(c.lsh_chunk_len);
  cb.add_lsh_n_buckets(c.lsh_n_buckets);
  cb.add_lsh_n_hashes(c.lsh_n_hashes);
  cb.add_lsh_n_chunks_before(c.lsh_n_chunks_before);
  cb.add_lsh_n_chunks_after(c.lsh_n_chunks_after);
  cb.add_lsh_predict_mem_len(c.lsh_predict_mem_len);
  cb.add_lsh_predict_drop_len(c.lsh_predict_drop_len);
  cb.add_d_attention_key(c.d_attention_key);
  cb.add_d_attention_value(c.d_attention_value);
  cb.add_attention_bias(c.attention_bias);
  cb.add_qkv_share_qk(c.qkv_share_qk);
  cb.add_qkv_output_layer(fb::QkvOutputLayer(c.qkv_output_layer));
  cb.add_qkv_v_concat(fb::QkvVConcat(c.qkv_v_concat));
  cb.add_loss_sparsity_type(fb::LossSparsityType(c.loss_sparsity_type));
  cb.add_loss_d_lowrank(c.loss_d_lowrank);
  cb.add_ff_sparsity_type(fb::FFSparsityType(c.ff_sparsity_type));
  cb.add_ff_activation(fb::FFActivation(c.ff_activation));
  cb.add_n_layers_forget(c.n_layers_forget);
  cb.add_forget_dense(c.forget_dense);
  cb.add_use_two_swaps_per_encoder_block(c.use_two_swaps_per_encoder_block);
  cb.add_output_vocab_size(c.output_vocab_size);
  cb.add_block_type(fb::BlockType(c.block_type));
  cb.add_decoder_output(fb::DecoderOutput(c.decoder_output));
  cb.add_pos_d_feature(c.pos_d_feature);
  return cb.Finish();
}

// The table with a given data_offset; built twice because the offset depends on its own size
// (force_defaults keeps the size independent of the value).
std::vector<uint8_t> build_table(const ModelConfig& config, const TokenizerInfo& tok,
                                 const std::map<std::string, std::string>& metadata,
                                 const std::vector<PlannedTensor>& tensors, uint64_t data_offset, uint64_t data_size) {
  flatbuffers::FlatBufferBuilder b(1 << 16);
  b.ForceDefaults(true);
  auto cfg = build_config(b, config);
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
  auto model = fb::CreateModel(b, kFormatVersion, cfg, tokenizer, tensors_v, meta_v, data_offset, data_size);
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
