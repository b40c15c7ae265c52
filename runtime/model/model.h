// A model ready to run: the verified file plus its bound weights. Sessions borrow it; it must
// outlive them. Loading is the only place a model is checked; running trusts what it verified.
#pragma once

#include <memory>
#include <string>

#include "model/model_file.h"
#include "model/weights.h"

namespace terra {

struct LoadOptions {
  // Read the file into private memory instead of mapping it (see platform::MappedFile::open):
  // for files on shared or network storage that may change while the model is in use. The safe
  // way to replace a mapped model file is to write the new one beside it and rename() it over.
  bool copy = false;
};

class Model {
 public:
  static Result<std::unique_ptr<Model>> load(const std::string& path, const LoadOptions& options = {});
  static Result<std::unique_ptr<Model>> load(std::unique_ptr<platform::MappedFile> mapped);

  const ModelConfig& config() const { return file_->config(); }
  const TokenizerInfo& tokenizer() const { return file_->tokenizer(); }
  const ModelFile& file() const { return *file_; }
  const ModelWeights& weights() const { return weights_; }

 private:
  std::unique_ptr<ModelFile> file_;
  ModelWeights weights_;
};

}  // namespace terra
