// The one list of config fields (model/config_fields.h) against everything that moves a config:
// the schema's Config table (every schema field is in the list, defaults agree, each field
// survives a write and a read on its own) and config.json (each field is read by its name).
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "config_json.h"
#include "model/config_table.h"
#include "terra_generated.h"
#include "model_factory.h"

using namespace terra;

namespace {

ModelConfig through_table(const ModelConfig& c, bool force_defaults) {
  flatbuffers::FlatBufferBuilder b;
  b.ForceDefaults(force_defaults);
  b.Finish(write_config_table(b, c));
  return read_config_table(*flatbuffers::GetRoot<fb::Config>(b.GetBufferPointer()));
}

// A value other than the default, of the field's type.
template <typename T>
T other_than(T v, int salt) {
  if constexpr (std::is_same_v<T, bool>) {
    return !v;
  } else if constexpr (std::is_same_v<T, float>) {
    return v * 3.0f + 0.25f;
  } else if constexpr (std::is_enum_v<T>) {
    return static_cast<T>(static_cast<int>(v) + 1);
  } else {
    return v + 7 + salt;
  }
}

std::set<std::string> listed_names() {
  std::set<std::string> names{"decoder_attention_types", "pos_bases", "lsh_bucket_factors"};
#define TERRA_NAME(type, name, default_value, json) names.insert(#name);
  TERRA_CONFIG_SCALARS(TERRA_NAME)
#undef TERRA_NAME
  return names;
}

}  // namespace

TEST_CASE("every field of the schema's Config table is in the one field list", "[config]") {
  const flatbuffers::TypeTable* table = fb::ConfigTypeTable();
  std::set<std::string> schema;
  for (size_t i = 0; i < table->num_elems; ++i) schema.insert(table->names[i]);
  CHECK(schema == listed_names());
}

TEST_CASE("the schema's defaults are ModelConfig's defaults", "[config]") {
  // Written without forced defaults, a field equal to the schema's default is left out of the
  // table and read back as the schema's default: so equality means the defaults agree.
  CHECK(through_table(ModelConfig{}, false) == ModelConfig{});
  flatbuffers::FlatBufferBuilder b;
  fb::ConfigBuilder empty(b);
  b.Finish(empty.Finish());
  ModelConfig read = read_config_table(*flatbuffers::GetRoot<fb::Config>(b.GetBufferPointer()));
  ModelConfig expected;
  expected.decoder_attention_types.clear();  // lists have no schema default: empty when absent
  expected.pos_bases.clear();
  CHECK(read == expected);
}

TEST_CASE("each config field survives the model file's table on its own", "[config]") {
  int salt = 0;
#define TERRA_ONE_FIELD(type, name, default_value, json)                    \
  {                                                                          \
    INFO(#name);                                                             \
    ModelConfig c;                                                           \
    c.name = other_than<type>(c.name, salt++);                               \
    CHECK_FALSE(c == ModelConfig{});                                         \
    CHECK(through_table(c, false) == c);                                     \
    CHECK(through_table(c, true) == c);                                      \
  }
  TERRA_CONFIG_SCALARS(TERRA_ONE_FIELD)
#undef TERRA_ONE_FIELD
  ModelConfig lists;
  lists.decoder_attention_types = {AttentionType::kMultConv, AttentionType::kDense};
  lists.pos_bases = {3, 5};
  lists.lsh_bucket_factors = {4, 6};
  CHECK(through_table(lists, false) == lists);
}

TEST_CASE("config.json reads each field by its name", "[config]") {
  const std::string path = test::temp_path("fields.json");
  const std::string base = R"("vocab_size": 300, "d_model": 32, "d_ff": 64, "n_heads": 4, "n_decoder_layers": 2)";
  auto read = [&](const std::string& extra) {
    std::ofstream(path) << "{" << base << extra << "}";
    return read_config_json(path);
  };
  auto plain = read("");
  REQUIRE(plain.ok());
  auto json_value = [](auto v) {
    std::ostringstream s;
    if constexpr (std::is_same_v<decltype(v), bool>) s << (v ? "true" : "false");
    else if constexpr (std::is_enum_v<decltype(v)>) s << int(v);
    else s << v;
    return s.str();
  };
  int salt = 0;
  // The default written out reads as the default; another value reads as that value or is
  // refused naming the field (validation bounds some fields).
#define TERRA_JSON_FIELD(type, name, default_value, json)                                   \
  if (std::string(#json) != "CUSTOM") {                                                      \
    INFO(#name);                                                                             \
    const ModelConfig d;                                                                     \
    auto same = read(", \"" #name "\": " + json_value(d.name));                             \
    if (std::string(#name) == "vocab_size" || std::string(#name) == "d_model" ||             \
        std::string(#name) == "d_ff" || std::string(#name) == "n_heads" ||                   \
        std::string(#name) == "n_decoder_layers") {                                          \
      /* required: given twice, the JSON object keeps the last value; skip the default */    \
    } else {                                                                                 \
      REQUIRE(same.ok());                                                                    \
      CHECK(same.value().model == plain.value().model);                                      \
      const auto v = other_than<type>(d.name, salt++);                                       \
      auto other = read(", \"" #name "\": " + json_value(v));                               \
      if (other.ok()) {                                                                      \
        CHECK(other.value().model.name == v);                                                \
      } else {                                                                               \
        CHECK_THAT(other.status().message(), Catch::Contains(#name));                        \
      }                                                                                      \
    }                                                                                        \
  }
  TERRA_CONFIG_SCALARS(TERRA_JSON_FIELD)
#undef TERRA_JSON_FIELD
  std::remove(path.c_str());
}
