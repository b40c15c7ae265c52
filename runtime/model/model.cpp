#include "model/model.h"

namespace terra {

Result<std::unique_ptr<Model>> Model::load(const std::string& path, const LoadOptions& options) {
  auto mapped = platform::MappedFile::open(path, options.copy);
  if (!mapped.ok()) return mapped.status();
  return load(mapped.take());
}

Result<std::unique_ptr<Model>> Model::load(std::unique_ptr<platform::MappedFile> mapped) {
  auto file = ModelFile::load(std::move(mapped));
  if (!file.ok()) return file.status();
  std::unique_ptr<Model> m(new Model());
  m->file_ = file.take();
  const std::string& path = m->file_->path();
  Status supported = m->file_->config().check_supported();
  if (!supported.ok()) return Status::Error(supported.code(), path + ": " + supported.message());
  auto weights = bind_weights(*m->file_);
  if (!weights.ok()) return weights.status();
  m->weights_ = weights.take();
  return m;
}

}  // namespace terra
