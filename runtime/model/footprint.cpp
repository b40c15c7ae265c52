#include "model/footprint.h"

#include <string>

#include "model/model_file.h"

namespace terra {

namespace {
bool ends_with(const std::string& s, const char* tail) {
  const std::string t(tail);
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}
}  // namespace

Footprint weight_footprint(const ModelFile& file) {
  const ModelConfig& c = file.config();
  Footprint f;
  for (const TensorView& t : file.tensors()) {
    f.weight_bytes_total += t.bytes;
    const std::string& n = t.name;
    const bool sparse_ff_rows = c.ff_sparsity > 0 && (ends_with(n, ".ff.w1") || ends_with(n, ".ff.w2"));
    // Looked up by position or token id, not multiplied.
    const bool table = n == "embedding" || ends_with(n, ".pos.table") || ends_with(n, ".pos.base_weights");
    uint64_t read = t.bytes;
    if (n.rfind("encoder.", 0) == 0) {
      read = 0;  // the encoder runs once per input, not per token
    } else if (n == "embedding" || n == "decoder.pos.table") {
      read = t.shape.empty() || t.shape[0] == 0 ? 0 : t.bytes / uint64_t(t.shape[0]);  // one row
    } else if (sparse_ff_rows) {
      read = t.bytes / uint64_t(c.ff_sparsity);  // one unit of N in every block
    }
    f.weight_bytes_per_token += read;

    // Multiply-adds: the matrices (rank 2 or more) that are not tables.
    if (t.shape.size() < 2 || table) continue;
    uint64_t macs = 1;
    for (int64_t dim : t.shape) macs *= uint64_t(dim);
    if (sparse_ff_rows) macs /= uint64_t(c.ff_sparsity);
    // A multiplicative-conv kernel (taps, module width, M, M) slides over all S modules.
    if (n.find(".conv_") != std::string::npos && c.qkv_sparsity > 1) macs *= uint64_t(c.qkv_sparsity);
    if (n.rfind("encoder.", 0) == 0) f.input_macs_per_token += macs;
    else if (n.rfind("loss.", 0) != 0) f.prompt_macs_per_token += macs;
  }
  return f;
}

}  // namespace terra
