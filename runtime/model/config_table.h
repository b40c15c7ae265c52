// ModelConfig <-> the model file's Config table (schema/terra.fbs), field by field from the one
// list in model/config_fields.h. The loader reads with it; the converter writes with it.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include "model/config.h"

namespace terra {
namespace fb {
struct Config;
}

ModelConfig read_config_table(const fb::Config& table);
flatbuffers::Offset<fb::Config> write_config_table(flatbuffers::FlatBufferBuilder& builder, const ModelConfig& c);

}  // namespace terra
