#include "config_json.h"

#include <nlohmann/json.hpp>
#include <set>

#include "json_input.h"
#include "platform/platform.h"

namespace terra {

namespace {

using nlohmann::json;

class Reader {
 public:
  Reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  void integer(const char* key, int* out, bool required = false) {
    seen_.insert(key);
    if (!j_.contains(key)) {
      if (required) fail(std::string("required field '") + key + "' is missing");
      return;
    }
    const json& v = j_[key];
    if (!v.is_number_integer() || v.get<int64_t>() < INT32_MIN || v.get<int64_t>() > INT32_MAX) {
      fail(std::string("field '") + key + "' = " + brief(v) + " is not an integer");
      return;
    }
    *out = v.get<int>();
  }
  void boolean(const char* key, bool* out) {
    seen_.insert(key);
    if (!j_.contains(key)) return;
    if (!j_[key].is_boolean()) return fail(std::string("field '") + key + "' = " + brief(j_[key]) + " is not a boolean");
    *out = j_[key].get<bool>();
  }
  void number(const char* key, float* out) {
    seen_.insert(key);
    if (!j_.contains(key)) return;
    if (!j_[key].is_number()) return fail(std::string("field '") + key + "' = " + brief(j_[key]) + " is not a number");
    *out = j_[key].get<float>();
  }
  void choice(const char* key, std::initializer_list<const char*> names, int* out) {
    seen_.insert(key);
    if (!j_.contains(key)) return;
    int i = 0;
    for (const char* n : names) {
      if (j_[key] == n) {
        *out = i;
        return;
      }
      ++i;
    }
    std::string all;
    for (const char* n : names) all += std::string(all.empty() ? "" : ", ") + n;
    fail(std::string("field '") + key + "' = " + brief(j_[key]) + " is not one of " + all);
  }
  const json* get(const char* key) {
    seen_.insert(key);
    return j_.contains(key) ? &j_[key] : nullptr;
  }
  void fail(const std::string& what) {
    if (status_.ok()) status_ = Status::Error(ErrorCode::kInvalidArgument, path_ + ": " + what);
  }
  Status finish() {
    for (auto& [k, v] : j_.items()) {
      if (!seen_.count(k)) fail("unknown field '" + k + "'");
    }
    return status_;
  }

 private:
  const json& j_;
  std::string path_;
  std::set<std::string> seen_;
  Status status_;
};

bool attention_from_string(const std::string& s, AttentionType* t) {
  if (s == "dense") *t = AttentionType::kDense;
  else if (s == "mult_conv") *t = AttentionType::kMultConv;
  else if (s == "lsh") *t = AttentionType::kLSH;
  else return false;
  return true;
}

}  // namespace

void set_lsh_buckets(ModelConfig& c, const std::vector<int>& factors) {
  long long product = 1;
  for (int f : factors) product = std::min<long long>(product * f, 1 << 20);
  c.lsh_n_buckets = int(product);
  c.lsh_bucket_factors = factors.size() > 1 ? factors : std::vector<int>{};
}

Result<CheckpointConfig> read_config_json(const std::string& path) {
  TERRA_ASSIGN_OR_RETURN(auto text, platform::read_file(path, kMaxConfigBytes));
  TERRA_ASSIGN_OR_RETURN(auto parsed, parse_json(text, path));
  const json& j = parsed;
  if (!j.is_object()) return Status::Error(ErrorCode::kInvalidArgument, path + ": not a JSON object");
  CheckpointConfig out;
  ModelConfig& c = out.model;
  Reader r(j, path);
  // Fields that config.json spells as they are named (model/config_fields.h); the CUSTOM ones follow.
#define TERRA_JSON_REQUIRED(name) r.integer(#name, &c.name, true);
#define TERRA_JSON_INT(name) r.integer(#name, &c.name);
#define TERRA_JSON_BOOL(name) r.boolean(#name, &c.name);
#define TERRA_JSON_FLOAT(name) r.number(#name, &c.name);
#define TERRA_JSON_CUSTOM(name)
#define TERRA_JSON_READ(type, name, default_value, json) TERRA_JSON_##json(name)
  TERRA_CONFIG_SCALARS(TERRA_JSON_READ)
#undef TERRA_JSON_READ
#undef TERRA_JSON_REQUIRED
#undef TERRA_JSON_INT
#undef TERRA_JSON_BOOL
#undef TERRA_JSON_FLOAT
#undef TERRA_JSON_CUSTOM
  if (const json* v = r.get("decoder_attention_types")) {
    c.decoder_attention_types.clear();
    for (const json& t : (v->is_array() ? *v : json::array({*v}))) {
      AttentionType a;
      if (!t.is_string() || !attention_from_string(t.get<std::string>(), &a)) {
        r.fail("decoder_attention_types entry " + brief(t) + " is not one of dense, mult_conv, lsh");
        break;
      }
      c.decoder_attention_types.push_back(a);
    }
  }
  if (const json* v = r.get("encoder_attention_type")) {
    if (!v->is_string() || !attention_from_string(v->get<std::string>(), &c.encoder_attention_type)) {
      r.fail("encoder_attention_type " + brief(*v) + " is not one of dense, mult_conv, lsh");
    }
  }
  if (c.ff_sparsity > 0 && c.d_lowrank == 0) c.d_lowrank = c.d_ff / c.ff_sparsity;  // trax's default
  if (const json* v = r.get("ff_use_sru")) {
    auto small_int = [](const json& x) {
      return x.is_number_integer() && x.get<int64_t>() >= 0 && x.get<int64_t>() <= (int64_t(1) << 24);
    };
    if (!v->is_array() || v->size() != 2 || !small_int((*v)[0]) || !small_int((*v)[1])) {
      r.fail("ff_use_sru " + brief(*v) + " is not [layers, width]");
    } else {
      c.sru_layers = (*v)[0].get<int>();
      c.sru_width = (*v)[1].get<int>();
    }
  }
  if (const json* v = r.get("pos_type")) {
    const std::string s = v->is_string() ? v->get<std::string>() : "";
    if (s == "fixed-base") c.pos_encoding = PosEncoding::kFixedBase;
    else if (s == "learned") c.pos_encoding = PosEncoding::kLearned;
    else if (s == "none") c.pos_encoding = PosEncoding::kNone;
    else r.fail("pos_type " + brief(*v) + " is not one of fixed-base, learned, none");
  }
  if (const json* v = r.get("pos_bases")) {
    c.pos_bases.clear();
    for (const json& b : (v->is_array() ? *v : json::array({*v}))) {
      if (!b.is_number_integer() || b.get<int64_t>() < 0 || b.get<int64_t>() > (int64_t(1) << 24)) {
        r.fail("pos_bases entry " + brief(b) + " is not an integer");
        break;
      }
      c.pos_bases.push_back(b.get<int>());
    }
  }
  if (const json* v = r.get("lsh_n_buckets")) {  // an int, or trax's factorized list
    std::vector<int> factors;
    for (const json& f : (v->is_array() ? *v : json::array({*v}))) {
      if (!f.is_number_integer() || f.get<int64_t>() < 0 || f.get<int64_t>() > (int64_t(1) << 16)) {
        r.fail("lsh_n_buckets entry " + brief(f) + " is not an integer in [0, 65536]");
        break;
      }
      factors.push_back(f.get<int>());
    }
    if (v->is_array() && v->empty()) r.fail("lsh_n_buckets is an empty list");
    set_lsh_buckets(c, factors);
  }
  r.choice("qkv_output_layer", {"none", "mult", "conv", "multconv"}, &c.qkv_output_layer);
  r.choice("qkv_v_concat", {"none", "fixed", "original"}, &c.qkv_v_concat);
  r.choice("loss_sparsity_type", {"mult", "lowrank", "einsum", "local", "local3"}, &c.loss_sparsity_type);
  r.choice("ff_sparsity_type", {"1inN", "Block", "Switch"}, &c.ff_sparsity_type);
  r.choice("ff_activation", {"relu", "gelu", "fast_gelu"}, &c.ff_activation);
  int block_type = 0, decoder_output = 0;
  r.choice("block_type", {"reversible", "residual"}, &block_type);
  r.choice("decoder_output", {"mean", "concat"}, &decoder_output);
  c.block_type = BlockType(block_type);
  c.decoder_output = DecoderOutput(decoder_output);
  if (const json* v = r.get("tokenizer")) {
    TokenizerInfo& t = out.tokenizer;
    // Ids within the vocabulary (the byte tokenizer's 256 bytes too), checked before any sum.
    auto id = [&](const char* key, int* dst, int64_t last) {
      if (!v->contains(key)) return;
      const json& x = (*v)[key];
      if (!x.is_number_integer() || (x.is_number_unsigned() ? x.get<uint64_t>() > uint64_t(last) : x.get<int64_t>() < 0 ||
                                                                                                     x.get<int64_t>() > last)) {
        return r.fail(std::string("tokenizer.") + key + " = " + brief(x) + " is not an integer in [0, " +
                      std::to_string(last) + "] (vocab_size " + std::to_string(c.vocab_size) + ")");
      }
      *dst = x.get<int>();
    };
    const int64_t last_id = int64_t(c.vocab_size) - 1;
    if (!v->is_object() || !v->contains("type") || !(*v)["type"].is_string()) {
      r.fail("tokenizer " + brief(*v) + " needs a \"type\": \"byte\", \"sentencepiece\" or \"none\"");
    } else if ((*v)["type"] == "byte") {
      id("byte_offset", &t.byte_offset, std::max<int64_t>(-1, int64_t(c.vocab_size) - 256));
    } else if ((*v)["type"] == "none") {
      t.kind = TokenizerKind::kNone;
    } else if ((*v)["type"] == "sentencepiece" || (*v)["type"] == "subword") {
      const bool subword = (*v)["type"] == "subword";
      t.kind = subword ? TokenizerKind::kSubword : TokenizerKind::kSentencePiece;
      if (subword) {
        t.byte_offset = 0;
        id("n_reserved_ids", &t.byte_offset, c.vocab_size);
      }
      if (!v->contains("model") || !(*v)["model"].is_string()) {
        r.fail("tokenizer: a sentencepiece or subword tokenizer needs \"model\": its vocabulary file (relative to "
               "config.json, or absolute)");
      } else {
        const std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
        const std::string name = (*v)["model"].get<std::string>();
        const std::string model_path = !name.empty() && name[0] == '/' ? name : dir + "/" + name;
        auto bytes = platform::read_file(model_path, kMaxTokenizerBytes);
        if (!bytes.ok()) {
          r.fail("tokenizer model: " + bytes.status().message());
        } else {
          out.tokenizer_model.assign(bytes.value().begin(), bytes.value().end());
        }
      }
    } else {
      r.fail("tokenizer type " + brief((*v)["type"]) + " is not byte, sentencepiece, subword or none");
    }
    id("start_id", &t.start_id, last_id);
    id("end_id", &t.end_id, last_id);
    for (auto& [k, val] : v->items()) {
      if (k != "type" && k != "model" && k != "start_id" && k != "end_id" && k != "byte_offset" && k != "n_reserved_ids") {
        r.fail("unknown field 'tokenizer." + k + "'");
      }
    }
  }
  for (const char* key : {"name", "source", "license"}) {
    if (const json* v = r.get(key)) {
      if (v->is_string()) out.metadata[key] = v->get<std::string>();
      else r.fail(std::string("field '") + key + "' is not a string");
    }
  }
  TERRA_RETURN_IF_ERROR(r.finish());
  out.tokenizer.model = out.tokenizer_model.data();
  out.tokenizer.model_size = out.tokenizer_model.size();
  Status valid = c.validate();
  if (!valid.ok()) return Status::Error(ErrorCode::kInvalidArgument, path + ": " + valid.message());
  return out;
}

}  // namespace terra
