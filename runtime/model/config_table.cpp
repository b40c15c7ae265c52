#include "model/config_table.h"

#include <utility>

#include "model/fb_vector.h"
#include "terra_generated.h"

namespace terra {

ModelConfig read_config_table(const fb::Config& table) {
  ModelConfig c;
#define TERRA_CONFIG_READ(type, name, default_value, json) c.name = static_cast<type>(table.name());
  TERRA_CONFIG_SCALARS(TERRA_CONFIG_READ)
#undef TERRA_CONFIG_READ
  c.decoder_attention_types.clear();
  if (table.decoder_attention_types()) {
    for (auto t : *table.decoder_attention_types()) c.decoder_attention_types.push_back(AttentionType(t));
  }
  c.pos_bases = to_vector(table.pos_bases());
  c.lsh_bucket_factors = to_vector(table.lsh_bucket_factors());
  return c;
}

flatbuffers::Offset<fb::Config> write_config_table(flatbuffers::FlatBufferBuilder& builder, const ModelConfig& c) {
  std::vector<fb::AttentionType> types;
  for (AttentionType t : c.decoder_attention_types) types.push_back(fb::AttentionType(t));
  auto types_v = builder.CreateVector(types);
  auto bases_v = builder.CreateVector(c.pos_bases);
  auto factors_v = builder.CreateVector(c.lsh_bucket_factors);
  fb::ConfigBuilder cb(builder);
  cb.add_decoder_attention_types(types_v);
  cb.add_pos_bases(bases_v);
  cb.add_lsh_bucket_factors(factors_v);
  // Each field as the schema's type (its enums for the int-coded trax options).
#define TERRA_CONFIG_WRITE(type, name, default_value, json) \
  cb.add_##name(static_cast<decltype(std::declval<fb::Config>().name())>(c.name));
  TERRA_CONFIG_SCALARS(TERRA_CONFIG_WRITE)
#undef TERRA_CONFIG_WRITE
  return cb.Finish();
}

}  // namespace terra
