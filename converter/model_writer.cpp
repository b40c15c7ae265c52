#include "model_writer.h"

#include <cerrno>
#include <cstring>

#include "terra_generated.h"

namespace terra {

namespace {

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
  auto tokenizer = fb::CreateTokenizer(b, fb::TokenizerKind(tok.kind), tok.start_id, tok.end_id, tok.byte_offset);
  std::vector<flatbuffers::Offset<fb::Tensor>> ts;
  for (const PlannedTensor& t : tensors) {
    ts.push_back(fb::CreateTensor(b, b.CreateString(t.name), fb::DType(t.dtype), fb::Layout(t.layout),
                                  b.CreateVector(t.shape), t.offset, t.bytes));
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

Status ModelWriter::open(const std::string& path, const ModelConfig& config, const TokenizerInfo& tokenizer,
                         const std::map<std::string, std::string>& metadata, std::vector<PlannedTensor> tensors) {
  path_ = path;
  temp_path_ = path + ".partial";
  tensors_ = std::move(tensors);
  uint64_t data_size = 0;
  for (PlannedTensor& t : tensors_) {
    t.offset = data_size;
    data_size = round_up(data_size + t.bytes, kTensorAlignment);
  }
  std::vector<uint8_t> table = build_table(config, tokenizer, metadata, tensors_, 0, data_size);
  if (table.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return Status::Error(ErrorCode::kInvalidArgument, path + ": the model table exceeds 2 GiB");
  }
  data_offset_ = round_up(table.size(), kDataRegionAlignment);
  table = build_table(config, tokenizer, metadata, tensors_, data_offset_, data_size);
  if (round_up(table.size(), kDataRegionAlignment) != data_offset_) {
    return Status::Error(ErrorCode::kInvalidArgument, path + ": internal error: the table changed size");
  }
  out_ = std::fopen(temp_path_.c_str(), "wb");
  if (out_ == nullptr) return Status::Error(ErrorCode::kIo, temp_path_ + ": cannot create: " + std::strerror(errno));
  TERRA_RETURN_IF_ERROR(write_bytes(table.data(), table.size()));
  std::vector<uint8_t> pad(data_offset_ - table.size(), 0);
  TERRA_RETURN_IF_ERROR(write_bytes(pad.data(), pad.size()));
  file_size_ = data_offset_ + data_size;
  return Status::Ok();
}

Status ModelWriter::write_bytes(const void* p, size_t n) {
  if (n > 0 && std::fwrite(p, 1, n, out_) != n) {
    return Status::Error(ErrorCode::kIo, temp_path_ + ": write failed: " + std::strerror(errno));
  }
  return Status::Ok();
}

Status ModelWriter::write_next(const std::vector<float>& values) {
  if (next_ >= tensors_.size()) return Status::Error(ErrorCode::kInvalidArgument, "more tensors than planned");
  const PlannedTensor& t = tensors_[next_++];
  if (values.size() * dtype_size(t.dtype) != t.bytes) {
    return Status::Error(ErrorCode::kInvalidArgument, "tensor '" + t.name + "': " + std::to_string(values.size()) +
                                                          " values do not match its planned size");
  }
  static const uint8_t zeros[kTensorAlignment] = {};
  TERRA_RETURN_IF_ERROR(write_bytes(zeros, t.offset - written_));  // alignment padding
  if (t.dtype == DType::kF32) {
    TERRA_RETURN_IF_ERROR(write_bytes(values.data(), t.bytes));
  } else {
    std::vector<uint16_t> half(values.size());
    for (size_t i = 0; i < values.size(); ++i) half[i] = float_to_half(values[i]);
    TERRA_RETURN_IF_ERROR(write_bytes(half.data(), t.bytes));
  }
  written_ = t.offset + t.bytes;
  return Status::Ok();
}

Status ModelWriter::finish() {
  if (next_ != tensors_.size()) return Status::Error(ErrorCode::kInvalidArgument, "not every tensor was written");
  const uint64_t end = file_size_ - data_offset_;
  std::vector<uint8_t> pad(end - written_, 0);
  TERRA_RETURN_IF_ERROR(write_bytes(pad.data(), pad.size()));
  const bool closed = std::fclose(out_) == 0;
  out_ = nullptr;
  if (!closed || std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    std::remove(temp_path_.c_str());
    return Status::Error(ErrorCode::kIo, path_ + ": cannot finish writing: " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace terra
