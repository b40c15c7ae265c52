// Beam search as trax's decoding.beam_search computes it (trax/supervised/decoding.py): the prompt
// runs once; then at every step each beam's top `beams` next tokens (by log-probability) are
// scored with the beam's summed log-probability, and the best `beams` of all those continue
// (a stable sort: ties keep beam order, then token order; no end token, no length penalty), for a
// fixed number of tokens. Each beam is a Session; a beam that continues another copies its
// sequence (Session::copy_sequence_from). All memory is planned by create().
#pragma once

#include <memory>
#include <vector>

#include "decoder/session.h"

namespace terra {

struct BeamHypothesis {
  std::vector<int> tokens;  // the generated tokens
  float score = 0;          // their summed log-probability
};

class BeamSearch {
 public:
  // options.max_context must hold the input, the prompt and the tokens to generate.
  static Result<std::unique_ptr<BeamSearch>> create(const Model& model, const SessionOptions& options, int beams);

  // Encoder-decoder models take `input` (else it must be empty). Returns the beams best first.
  Result<std::vector<BeamHypothesis>> run(const std::vector<int>& input, const std::vector<int>& prompt, int tokens);

 private:
  BeamSearch() = default;
  struct Candidate {
    float score;
    int beam;
    int token;
  };
  int beams_ = 0;
  std::vector<std::unique_ptr<Session>> current_, next_;  // two sets: beams copy from the old set into the new
  std::vector<float> log_probs_;
  std::vector<int> order_;
  std::vector<Candidate> candidates_;
};

}  // namespace terra
