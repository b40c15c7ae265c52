// trax LSHSelfAttention (docs/lsh-attention.md): queries and keys share one projection; each
// head hashes its rows into buckets with fixed random rotations (n_hashes rounds), sorts them by
// (bucket, position) per round, and each chunk of chunk_len sorted rows attends to itself and its
// neighbours (n_chunks_before, and n_chunks_after in the encoder); the rounds are combined by
// their log-sum-exp. The decoder keeps trax's predict-mode memory: its first call runs that
// full pass over the memory; every later row attends, with one plain softmax, to the
// n_hashes * chunk_len * (1 + n_chunks_before) memory rows trax's priority rule picks.
// These are the head-level pieces; the layer (attention_layers.h) owns the projections and state.
#pragma once

#include <cstdint>

#include "core/arena_plan.h"
#include "core/thread_pool.h"
#include "model/config.h"

namespace terra {

// trax mask_self_attention: subtracted from the score of the query's own key (its weight is
// then 0 unless nothing else is visible). Keys after the query (causal) and padding get -1e9,
// whose weight is exactly 0 in f32: those are left out instead.
constexpr float kLshSelfMask = 1e5f;

struct LshSettings {
  int heads = 1, dk = 0, dv = 0;
  int n_hashes = 1, n_buckets = 2, chunk = 1, before = 0, after = 0;
  // Hashing factor by factor (trax's n_buckets list; one factor n_buckets when it is an int):
  // factor i takes the next factors[i] / 2 rotation columns of the round, and the bucket is
  // sum_i argmax_i * prod_{j<i} factors[j]. rot_half: the round's columns, sum(factors) / 2.
  int factors[8] = {2};
  int n_factors = 1, rot_half = 1;
  // trax's n_buckets None: each call derives the count from the rows it hashes (at_length), and
  // draws its rotations for that count from the head's key.
  bool derived = false;
  bool causal = false;
  int mem_len = 0, drop_len = 0;  // the decoder's memory (predict_mem_len, predict_drop_len)
  // Rows the memory stores: mem_len, or fewer when the session's context is shorter (rows past
  // the context are never filled; the rules above still count mem_len). Set when planned.
  int mem_rows = 0;

  int rotation_cols() const { return n_hashes * rot_half; }
  int window() const { return chunk * (1 + before + after); }  // keys a chunk's queries see
  // The memory rows a decoded row attends to (trax's top-K; all of them when the memory is smaller).
  int candidates() const { return n_hashes * chunk * (1 + before); }
  // Positions per round for an encoder input of n tokens: trax needs n_hashes * L to be a
  // multiple of chunk_len; a shorter input is padded (masked) up to the next such L.
  int encoder_slots(int n) const;
  // Positions per round of the decoder's first call of n rows (trax pads to whole chunks): the
  // whole memory when the rows fit in it (trax's append branch), else the rows themselves.
  int first_call_slots(int n) const;
  bool first_call_appends(int n) const { return n <= drop_len && n < mem_len; }
  // The settings of a call hashing `rows` rows: these, or with a derived count trax's
  // hash_vectors rule: n = 2 * max(1, rows / chunk) buckets, or when n > 128 the factors
  // [p, 2 * (n / (2p))] with p the smallest power of two whose square is at least n.
  LshSettings at_length(int rows) const;
  // factors, n_factors, n_buckets (their product) and rot_half (their sum / 2) from trax's list
  // (no allocation: at_length runs per call).
  void set_factors(const int* f, int n);
  // For planning calls of up to `rows` rows: the largest bucket count and rotation width any of
  // them uses.
  LshSettings widest(int rows) const;
};

LshSettings lsh_settings(const ModelConfig& c, bool decoder);

// One row's buckets, per round r: argmax over [x R_r, -x R_r] (the first maximum; an all-zero row
// gives 0), factor by factor when factorized, without trax's round offset r * n_buckets. rotations: the head's [dk, rotation_cols];
// rotated: rotation_cols floats of scratch.
void lsh_hash_row(const LshSettings& s, const float* rotations, const float* q, float* rotated, int32_t* buckets);

// trax's keys: length_normalized(q) / sqrt(dk).
void lsh_key(const float* q, int dk, float* key);

// A full pass of one head over `slots` positions per round.
struct LshPassScratch {
  int32_t* buckets = nullptr;   // [n_hashes, slots]: each position's bucket per round (no offsets)
  int32_t* order = nullptr;     // [n_hashes * slots]: sorted slot -> position
  int32_t* slot_of = nullptr;   // [n_hashes * slots]: round * slots + position -> sorted slot
  int32_t* counts = nullptr;    // [n_buckets + 2]
  float* keys = nullptr;        // [slots, dk]: the head's keys (lsh_key)
  float* round_out = nullptr;   // [n_hashes * slots, dv]: each sorted slot's attention output
  float* round_lse = nullptr;   // [n_hashes * slots]: and its log-sum-exp
  float* rotated = nullptr;     // [threads, rotation_cols]
  float* dots = nullptr;        // [threads, window]
  int32_t* window_pos = nullptr;  // [threads, window]
};

// Buffers for passes of up to `slots` positions per round (the slots are shared: plan each use).
void plan_lsh_pass(ArenaPlan& plan, LshPassScratch& ps, const LshSettings& s, uint64_t slots, int threads);

struct LshPass {
  const float* rotations = nullptr;  // the head's
  const float* qk = nullptr;         // row t: the head's raw query/key, at qk + t * qk_stride
  const float* v = nullptr;
  int64_t qk_stride = 0, v_stride = 0;
  int n_real = 0;      // rows that are tokens; positions n_real..slots-1 are padding, never keys
  int slots = 0;       // positions per round
  int32_t pad_bucket = 0;  // padding's bucket: the encoder's own extra one, the decoder's zero rows' 0
  float* context = nullptr;  // row t < n_real: the head's output, at context + t * context_stride
  int64_t context_stride = 0;
};

// Leaves ps.buckets and ps.keys filled for rows < n_real (the decoder's memory takes them).
void lsh_pass_head(const LshSettings& s, const LshPass& p, const LshPassScratch& ps, const ThreadPool& pool);

// One decoded row, for one head. The row is already in the memory at q_start (its key in keys,
// its value in values, its buckets, with round offsets, in column q_start of `buckets`, a
// [n_hashes, mem_rows] table); it
// attends to the memory rows <= q_start among trax's top-K priorities (valid: sharing a bucket
// with it in some round; then the most recent first). keys/values: row j of the head at
// keys + j * key_stride. dots, picked: candidates() entries of scratch.
void lsh_step_head(const LshSettings& s, const float* q, const float* keys, int64_t key_stride, const float* values,
                   int64_t value_stride, const int32_t* buckets, int q_start, float* dots, int32_t* picked,
                   float* context);

}  // namespace terra
