#include "layers/attention_lsh.h"

#include <algorithm>
#include <cmath>

#include "kernels/kernel_set.h"
#include "kernels/vector_ops.h"

namespace terra {

int LshSettings::encoder_slots(int n) const {
  int L = n;
  while ((int64_t(n_hashes) * L) % chunk != 0) ++L;  // at most chunk steps
  return L;
}

int LshSettings::first_call_slots(int n) const {
  const int rows = first_call_appends(n) ? mem_len : n;
  return (rows + chunk - 1) / chunk * chunk;
}

void LshSettings::set_factors(const int* f, int n) {
  n_factors = n;  // at most 8 (ModelConfig::validate)
  std::copy(f, f + n, factors);
  n_buckets = 1;
  rot_half = 0;
  for (int i = 0; i < n; ++i) {
    n_buckets *= f[i];
    rot_half += f[i] / 2;
  }
}

LshSettings LshSettings::at_length(int rows) const {
  if (!derived) return *this;
  LshSettings s = *this;
  const int n = 2 * std::max(1, rows / chunk);
  if (n <= 128) {
    s.set_factors(&n, 1);
  } else {
    int p = 2;
    while (int64_t(p) * p < n) p *= 2;  // trax: 2 ** ceil(log2(sqrt(n)))
    const int f[2] = {p, 2 * (n / (2 * p))};
    s.set_factors(f, 2);
  }
  return s;
}

LshSettings LshSettings::widest(int rows) const {
  LshSettings w = at_length(rows);
  if (!derived) return w;
  // The count changes only at multiples of chunk; neither the count (factorized above 128) nor
  // the rotation width grows monotonically with the length, so every length is tried.
  for (int r = chunk; r <= rows; r += chunk) {
    const LshSettings s = at_length(r);
    w.n_buckets = std::max(w.n_buckets, s.n_buckets);
    w.rot_half = std::max(w.rot_half, s.rot_half);
  }
  return w;
}

LshSettings lsh_settings(const ModelConfig& c, bool decoder) {
  const LshDims dims = lsh_dims(c, decoder);
  LshSettings s;
  s.heads = c.n_heads;
  s.dk = dims.dk;
  s.dv = dims.dv;
  s.n_hashes = c.lsh_n_hashes;
  s.derived = c.lsh_buckets_derived();
  if (s.derived) {
    s.n_buckets = 0, s.n_factors = 0, s.rot_half = 0;  // per call: at_length
  } else {
    const std::vector<int> f = c.lsh_factors();
    s.set_factors(f.data(), int(f.size()));
  }
  s.chunk = c.lsh_chunk_len;
  s.before = c.lsh_n_chunks_before;
  s.after = decoder ? 0 : c.lsh_n_chunks_after;  // trax's predict mode looks only back
  s.causal = decoder;
  s.mem_len = decoder ? c.lsh_predict_mem_len : 0;
  s.drop_len = decoder ? c.lsh_predict_drop_len : 0;
  return s;
}

void lsh_hash_row(const LshSettings& s, const float* rotations, const float* q, float* rotated, int32_t* buckets) {
  const KernelSet& k = kernels();
  const int cols = s.rotation_cols();
  std::fill(rotated, rotated + cols, 0.0f);
  for (int f = 0; f < s.dk; ++f) k.axpy_f32(q[f], rotations + int64_t(f) * cols, rotated, size_t(cols));
  for (int r = 0; r < s.n_hashes; ++r) {
    const float* x = rotated + int64_t(r) * s.rot_half;
    int bucket = 0, scale = 1;
    for (int i = 0; i < s.n_factors; ++i) {
      const int half = s.factors[i] / 2;
      int best = 0;  // argmax over [x, -x]: the first maximum
      float top = x[0];
      for (int b = 1; b < half; ++b) {
        if (x[b] > top) top = x[b], best = b;
      }
      for (int b = 0; b < half; ++b) {
        if (-x[b] > top) top = -x[b], best = half + b;
      }
      bucket += scale * best;
      scale *= s.factors[i];
      x += half;
    }
    buckets[r] = bucket;
  }
}

void lsh_key(const float* q, int dk, float* key) {
  double ss = 0;
  for (int i = 0; i < dk; ++i) ss += double(q[i]) * double(q[i]);
  // x / sqrt(mean(x²) + 1e-6), then / sqrt(dk): trax's length_normalized, then attend's scaling.
  const float norm = float(std::sqrt(ss / double(dk) + 1e-6));
  const float scale = float(std::sqrt(double(dk)));
  for (int i = 0; i < dk; ++i) key[i] = q[i] / norm / scale;
}

void plan_lsh_pass(ArenaPlan& plan, LshPassScratch& ps, const LshSettings& s, uint64_t slots, int threads) {
  const uint64_t all = uint64_t(s.n_hashes) * slots, t = uint64_t(threads);
  plan.scratch(&ps.buckets, all);
  plan.scratch(&ps.order, all);
  plan.scratch(&ps.slot_of, all);
  plan.scratch(&ps.counts, uint64_t(s.n_buckets) + 2);
  plan.scratch(&ps.keys, slots * uint64_t(s.dk));
  plan.scratch(&ps.round_out, all * uint64_t(s.dv));
  plan.scratch(&ps.round_lse, all);
  plan.scratch(&ps.rotated, t * uint64_t(s.rotation_cols()));
  plan.scratch(&ps.dots, t * uint64_t(s.window()));
  plan.scratch(&ps.window_pos, t * uint64_t(s.window()));
}

namespace {

struct PassJob {
  const LshSettings* s;
  const LshPass* p;
  const LshPassScratch* ps;
  size_t parts;
};

// Part i hashes and keys rows i, i + parts, ...
void hash_part(void* ctx, size_t part, size_t /*end*/) {
  const auto& j = *static_cast<PassJob*>(ctx);
  const LshSettings& s = *j.s;
  const LshPass& p = *j.p;
  float* rotated = j.ps->rotated + part * size_t(s.rotation_cols());
  int32_t b[64];  // n_hashes <= 64 (ModelConfig::validate)
  for (int t = int(part); t < p.n_real; t += int(j.parts)) {
    const float* q = p.qk + t * p.qk_stride;
    lsh_hash_row(s, p.rotations, q, rotated, b);
    for (int r = 0; r < s.n_hashes; ++r) j.ps->buckets[int64_t(r) * p.slots + t] = b[r];
    lsh_key(q, s.dk, j.ps->keys + int64_t(t) * s.dk);
  }
}

// Per round, a counting sort by bucket; within a bucket, positions ascending (trax's sort key
// slots * bucket + position). Round r fills sorted slots [r * slots, (r + 1) * slots).
void sort_rounds(const LshSettings& s, const LshPass& p, const LshPassScratch& ps) {
  const int nb = s.n_buckets + 1;  // the encoder's padding bucket too
  for (int r = 0; r < s.n_hashes; ++r) {
    int32_t* b = ps.buckets + int64_t(r) * p.slots;
    for (int t = p.n_real; t < p.slots; ++t) b[t] = p.pad_bucket;
    std::fill(ps.counts, ps.counts + nb + 1, 0);
    for (int t = 0; t < p.slots; ++t) ++ps.counts[b[t] + 1];
    for (int i = 0; i < nb; ++i) ps.counts[i + 1] += ps.counts[i];
    const int64_t base = int64_t(r) * p.slots;
    for (int t = 0; t < p.slots; ++t) {
      const int64_t slot = base + ps.counts[b[t]]++;
      ps.order[slot] = t;
      ps.slot_of[base + t] = int32_t(slot);
    }
  }
}

// Part i takes chunks i, i + parts, ...: each real query of the chunk against the real keys of
// the window [c - before .. c + after] (chunk indices wrap around, duplicates kept, as trax's
// look_adjacent), with the causal and self masks.
void chunk_part(void* ctx, size_t part, size_t /*end*/) {
  const auto& j = *static_cast<PassJob*>(ctx);
  const LshSettings& s = *j.s;
  const LshPass& p = *j.p;
  const LshPassScratch& ps = *j.ps;
  const KernelSet& k = kernels();
  const int C = s.chunk, n_chunks = int(int64_t(s.n_hashes) * p.slots / C);
  float* dots = ps.dots + part * size_t(s.window());
  int32_t* win = ps.window_pos + part * size_t(s.window());
  for (int c = int(part); c < n_chunks; c += int(j.parts)) {
    int m = 0;
    for (int i = -s.before; i <= s.after; ++i) {
      const int cc = ((c + i) % n_chunks + n_chunks) % n_chunks;
      for (int slot = cc * C; slot < (cc + 1) * C; ++slot) {
        const int pos = ps.order[slot];
        if (pos < p.n_real) win[m++] = pos;
      }
    }
    for (int slot = c * C; slot < (c + 1) * C; ++slot) {
      const int pq = ps.order[slot];
      if (pq >= p.n_real) continue;
      const float* q = p.qk + pq * p.qk_stride;
      // Scores of the visible keys in window order; masked keys are skipped (their weight is 0).
      int n = 0;
      for (int i = 0; i < m; ++i) {
        const int pk = win[i];
        if (s.causal && pk > pq) continue;
        float d = k.dot_f32(q, ps.keys + int64_t(pk) * s.dk, size_t(s.dk));
        if (pk == pq) d -= kLshSelfMask;
        dots[n++] = d;
      }
      const float lse = softmax_inplace(dots, size_t(n));
      float* out = ps.round_out + int64_t(slot) * s.dv;
      std::fill(out, out + s.dv, 0.0f);
      n = 0;
      for (int i = 0; i < m; ++i) {
        const int pk = win[i];
        if (s.causal && pk > pq) continue;
        k.axpy_f32(dots[n++], p.v + pk * p.v_stride, out, size_t(s.dv));
      }
      ps.round_lse[slot] = lse;
    }
  }
}

// Part i combines rows i, i + parts, ...: the rounds weighted by softmax over their log-sum-exps.
void combine_part(void* ctx, size_t part, size_t /*end*/) {
  const auto& j = *static_cast<PassJob*>(ctx);
  const LshSettings& s = *j.s;
  const LshPass& p = *j.p;
  const LshPassScratch& ps = *j.ps;
  const KernelSet& k = kernels();
  for (int t = int(part); t < p.n_real; t += int(j.parts)) {
    float* out = p.context + t * p.context_stride;
    if (s.n_hashes == 1) {
      const float* o = ps.round_out + int64_t(ps.slot_of[t]) * s.dv;
      std::copy(o, o + s.dv, out);
      continue;
    }
    // Normalized explicitly: a round where only the row itself is visible has a log-sum-exp near
    // -1e5, where f32's exp(lse - logsumexp) would be off by its rounding there.
    float top = -INFINITY;
    for (int r = 0; r < s.n_hashes; ++r) top = std::max(top, ps.round_lse[ps.slot_of[int64_t(r) * p.slots + t]]);
    double sum = 0;
    for (int r = 0; r < s.n_hashes; ++r) sum += std::exp(double(ps.round_lse[ps.slot_of[int64_t(r) * p.slots + t]] - top));
    std::fill(out, out + s.dv, 0.0f);
    for (int r = 0; r < s.n_hashes; ++r) {
      const int32_t slot = ps.slot_of[int64_t(r) * p.slots + t];
      const float w = float(std::exp(double(ps.round_lse[slot] - top)) / sum);
      k.axpy_f32(w, ps.round_out + int64_t(slot) * s.dv, out, size_t(s.dv));
    }
  }
}

}  // namespace

void lsh_pass_head(const LshSettings& s, const LshPass& p, const LshPassScratch& ps, const ThreadPool& pool) {
  PassJob job{&s, &p, &ps, pool.threads()};
  pool.parallel_for(job.parts, 1, hash_part, &job);
  sort_rounds(s, p, ps);
  pool.parallel_for(job.parts, 1, chunk_part, &job);
  pool.parallel_for(job.parts, 1, combine_part, &job);
}

void lsh_step_head(const LshSettings& s, const float* q, const float* keys, int64_t key_stride, const float* values,
                   int64_t value_stride, const int32_t* buckets, int q_start, float* dots, int32_t* picked,
                   float* context) {
  const KernelSet& k = kernels();
  const int K = s.candidates();
  // trax's priorities, highest first: rows sharing a bucket with the query in some round, then
  // the others, each most recent first, counting row q_start + 1 (empty, masked) as past; rows
  // after it come last and are masked. Only rows <= q_start are attended; the rest use up picks.
  auto valid = [&](int j) {
    for (int r = 0; r < s.n_hashes; ++r) {
      const int32_t* row = buckets + int64_t(r) * s.mem_rows;
      if (row[j] == row[q_start]) return true;
    }
    return false;
  };
  const int past = std::min(q_start + 1, s.mem_len - 1);  // the last row counted as past (< mem_rows)
  int budget = K, n = 0;
  for (int pass = 0; pass < 2 && budget > 0; ++pass) {
    for (int j = past; j >= 0 && budget > 0; --j) {
      if (valid(j) != (pass == 0)) continue;
      --budget;
      if (j <= q_start) picked[n++] = j;
    }
  }
  for (int i = 0; i < n; ++i) {
    const int j = picked[i];
    dots[i] = k.dot_f32(q, keys + j * key_stride, size_t(s.dk)) - (j == q_start ? kLshSelfMask : 0.0f);
  }
  softmax_inplace(dots, size_t(n));
  std::fill(context, context + s.dv, 0.0f);
  for (int i = 0; i < n; ++i) k.axpy_f32(dots[i], values + picked[i] * value_stride, context, size_t(s.dv));
}

}  // namespace terra
