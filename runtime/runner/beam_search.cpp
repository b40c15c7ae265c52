#include "runner/beam_search.h"

#include <algorithm>
#include <cmath>

namespace terra {

Result<std::unique_ptr<BeamSearch>> BeamSearch::create(const Model& model, const SessionOptions& options, int beams) {
  if (beams < 1 || beams > 64) {
    return Status::Error(ErrorCode::kInvalidArgument, "beams = " + std::to_string(beams) + ": must be in [1, 64]");
  }
  std::unique_ptr<BeamSearch> b(new BeamSearch());
  b->beams_ = beams;
  for (auto* set : {&b->current_, &b->next_}) {
    for (int i = 0; i < beams; ++i) {
      TERRA_ASSIGN_OR_RETURN(auto s, Session::create(model, options));
      set->push_back(std::move(s));
    }
  }
  const int V = model.config().output_vocab();
  b->log_probs_.resize(size_t(V));
  b->order_.resize(size_t(V));
  b->candidates_.reserve(size_t(beams) * size_t(beams));
  return b;
}

Result<std::vector<BeamHypothesis>> BeamSearch::run(const std::vector<int>& input, const std::vector<int>& prompt,
                                                    int tokens) {
  if (prompt.empty()) return Status::Error(ErrorCode::kInvalidArgument, "beam search needs a prompt (the start id at least)");
  if (tokens < 1) return Status::Error(ErrorCode::kInvalidArgument, "beam search generates at least one token");
  Session& first = *current_[0];
  first.reset();
  if (!input.empty()) TERRA_RETURN_IF_ERROR(first.encode(input.data(), input.size()));
  TERRA_RETURN_IF_ERROR(first.prefill(prompt.data(), prompt.size()));
  const int V = first.vocab_size();
  const int k = std::min(beams_, V);
  std::vector<BeamHypothesis> hyps(static_cast<size_t>(beams_)), next_hyps(static_cast<size_t>(beams_));
  for (auto* set : {&hyps, &next_hyps}) {
    for (BeamHypothesis& h : *set) h.tokens.reserve(size_t(tokens));  // the loop copies into these
  }
  std::vector<int> last(size_t(beams_), 0);
  int live = 1;  // the first step extends the prompt's one beam
  for (int step = 0; step < tokens; ++step) {
    candidates_.clear();
    for (int b = 0; b < live; ++b) {
      Session& s = *current_[size_t(b)];
      if (step > 0) TERRA_RETURN_IF_ERROR(s.step(last[size_t(b)]));
      // log-softmax, then the k largest (ties: the lower id first, as jax.lax.top_k).
      const float* logits = s.logits();
      const float m = *std::max_element(logits, logits + V);
      double sum = 0;
      for (int v = 0; v < V; ++v) sum += std::exp(double(logits[v] - m));
      const float lse = m + float(std::log(sum));
      for (int v = 0; v < V; ++v) {
        log_probs_[size_t(v)] = logits[v] - lse;
        order_[size_t(v)] = v;
      }
      std::partial_sort(order_.begin(), order_.begin() + k, order_.end(), [&](int a, int c) {
        return log_probs_[size_t(a)] > log_probs_[size_t(c)] || (log_probs_[size_t(a)] == log_probs_[size_t(c)] && a < c);
      });
      for (int j = 0; j < k; ++j) {
        const int token = order_[size_t(j)];
        candidates_.push_back({hyps[size_t(b)].score + log_probs_[size_t(token)], b, token});
      }
    }
    std::stable_sort(candidates_.begin(), candidates_.end(),
                     [](const Candidate& a, const Candidate& c) { return a.score > c.score; });
    live = std::min<int>(beams_, int(candidates_.size()));
    for (int j = 0; j < live; ++j) {
      const Candidate& cand = candidates_[size_t(j)];
      TERRA_RETURN_IF_ERROR(next_[size_t(j)]->copy_sequence_from(*current_[size_t(cand.beam)]));
      next_hyps[size_t(j)].tokens = hyps[size_t(cand.beam)].tokens;
      next_hyps[size_t(j)].tokens.push_back(cand.token);
      next_hyps[size_t(j)].score = cand.score;
      last[size_t(j)] = cand.token;
    }
    std::swap(current_, next_);
    std::swap(hyps, next_hyps);
  }
  hyps.resize(size_t(live));
  return hyps;
}

}  // namespace terra
