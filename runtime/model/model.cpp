#include "model/model.h"

namespace terra {

Result<std::unique_ptr<Model>> Model::load(const std::string& path, const LoadOptions& options) {
  TERRA_ASSIGN_OR_RETURN(auto mapped, platform::MappedFile::open(path, options.copy));
  return load(std::move(mapped));
}

Result<std::unique_ptr<Model>> Model::load(std::unique_ptr<platform::MappedFile> mapped) {
  TERRA_ASSIGN_OR_RETURN(auto file, ModelFile::load(std::move(mapped)));
  std::unique_ptr<Model> m(new Model());
  m->file_ = std::move(file);
  const std::string& path = m->file_->path();
  Status supported = m->file_->config().check_supported();
  if (!supported.ok()) return Status::Error(supported.code(), path + ": " + supported.message());
  TERRA_ASSIGN_OR_RETURN(auto weights, bind_weights(*m->file_));
  m->weights_ = std::move(weights);
  return m;
}

}  // namespace terra
