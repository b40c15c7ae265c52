#include "model/model.h"

namespace terra {

Result<std::unique_ptr<Model>> Model::load(const std::string& path) {
  auto file = ModelFile::load(path);
  if (!file.ok()) return file.status();
  std::unique_ptr<Model> m(new Model());
  m->file_ = file.take();
  Status supported = m->file_->config().check_supported();
  if (!supported.ok()) return Status::Error(supported.code(), path + ": " + supported.message());
  auto weights = bind_weights(*m->file_);
  if (!weights.ok()) return weights.status();
  m->weights_ = weights.take();
  return m;
}

}  // namespace terra
