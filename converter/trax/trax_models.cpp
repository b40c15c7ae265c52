#include "trax/trax_models.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>

#include "config_json.h"

namespace terra::trax {

namespace {

using Op = Leaf::Op;
using Kind = GinValue::Kind;

Status refused(const std::string& binding, const std::string& why) {
  return Status::Error(ErrorCode::kUnsupported, binding + ": " + why);
}

// Reads one configurable's parameters from the gin file, with trax's defaults; the first problem
// is kept and reported by status(), naming the binding.
class Params {
 public:
  Params(const GinConfig& gin, std::string configurable) : gin_(gin), name_(std::move(configurable)) {}

  const GinValue* raw(const std::string& param) {
    const GinValue* v = gin_.find(name_, param);
    if (v == nullptr) return nullptr;
    auto r = gin_.resolve(*v);
    if (!r.ok()) {
      fail(r.status());
      return nullptr;
    }
    resolved_.push_back(r.take());
    return &resolved_.back();
  }
  std::string binding(const std::string& param) const { return name_ + "." + param; }
  std::string written(const std::string& param) {
    const GinValue* v = gin_.find(name_, param);
    return binding(param) + " = " + (v ? v->source : "(default)");
  }
  // Integers fit 32 bits here: the config's fields are ints (their bounds are checked later).
  long long integer(const std::string& param, long long fallback) {
    const GinValue* v = raw(param);
    if (v == nullptr) return fallback;
    long long n = 0;
    if (v->kind == Kind::kInt) {
      n = v->integer;
    } else if (v->kind == Kind::kFloat && v->number > -2.2e9 && v->number < 2.2e9 && v->number == double((long long)v->number)) {
      n = (long long)v->number;
    } else {
      fail(Status::Error(ErrorCode::kInvalidArgument, written(param) + " is not an integer"));
      return fallback;
    }
    if (n < INT32_MIN || n > INT32_MAX) {
      fail(Status::Error(ErrorCode::kInvalidArgument, written(param) + " is out of range"));
      return fallback;
    }
    return n;
  }
  // An integer, or None.
  bool optional_integer(const std::string& param, long long* out) {
    const GinValue* v = raw(param);
    if (v == nullptr || v->kind == Kind::kNone) return false;
    *out = integer(param, 0);
    return true;
  }
  double number(const std::string& param, double fallback) {
    const GinValue* v = raw(param);
    if (v == nullptr) return fallback;
    if (v->is_number()) return v->as_double();
    fail(Status::Error(ErrorCode::kInvalidArgument, written(param) + " is not a number"));
    return fallback;
  }
  bool boolean(const std::string& param, bool fallback) {
    const GinValue* v = raw(param);
    if (v == nullptr) return fallback;
    if (v->kind == Kind::kBool) return v->boolean;
    if (v->kind == Kind::kInt) return v->integer != 0;
    fail(Status::Error(ErrorCode::kInvalidArgument, written(param) + " is not a boolean"));
    return fallback;
  }
  std::string text(const std::string& param, const std::string& fallback) {
    const GinValue* v = raw(param);
    if (v == nullptr) return fallback;
    if (v->kind == Kind::kString) return v->text;
    if (v->kind == Kind::kNone) return "";
    fail(Status::Error(ErrorCode::kInvalidArgument, written(param) + " is not a string"));
    return fallback;
  }
  // The short name of a referenced configurable (@trax.layers.Relu -> "Relu"), or fallback.
  std::string reference(const std::string& param, const std::string& fallback) {
    const GinValue* v = raw(param);
    if (v == nullptr) return fallback;
    if (v->kind == Kind::kReference && !v->called) return short_name(v->text);
    fail(refused(written(param), "expected a reference to a layer class such as @trax.layers.Relu"));
    return fallback;
  }
  // A list of references (or one), as written (with their scope: "encoder/SelfAttention").
  std::vector<std::string> references(const std::string& param, const std::string& fallback) {
    const GinValue* v = raw(param);
    if (v == nullptr) return {fallback};
    std::vector<std::string> out;
    const std::vector<GinValue> one{*v};
    for (const GinValue& item : v->kind == Kind::kList || v->kind == Kind::kTuple ? v->items : one) {
      if (item.kind != Kind::kReference || item.called) {
        fail(refused(written(param), "expected references to attention layer classes"));
        return {fallback};
      }
      out.push_back(item.text);
    }
    if (out.empty()) fail(refused(written(param), "names no attention layer"));
    return out;
  }
  // Refuses a parameter bound to anything but its default value (as written in trax).
  void require_default(const std::string& param, const std::string& why) {
    const GinValue* v = raw(param);
    if (v == nullptr || v->kind == Kind::kNone) return;
    if ((v->kind == Kind::kInt && v->integer == 0) || (v->kind == Kind::kBool && !v->boolean)) return;
    if ((v->kind == Kind::kTuple || v->kind == Kind::kList) && v->items.empty()) return;
    fail(refused(written(param), why));
  }
  void fail(const Status& s) {
    if (status_.ok()) status_ = s;
  }
  const Status& status() const { return status_; }

 private:
  const GinConfig& gin_;
  std::string name_;
  std::deque<GinValue> resolved_;  // owns the values raw() returns (a deque keeps them in place)
  Status status_;
};

// Emits leaves in trax's order.
struct Emitter {
  std::vector<Leaf>* out;
  void leaf(const std::string& tensor, std::vector<int64_t> shape, Op op = Op::kWhole) {
    out->push_back({tensor, std::move(shape), op});
  }
  void dense(const std::string& prefix, int64_t in, int64_t outs) {
    leaf(prefix + ".kernel", {in, outs});
    leaf(prefix + ".bias", {outs});
  }
  // trax's LayerNorm has a bias leaf even with center=False; terra's RMS norm has no bias.
  void norm(const std::string& prefix, int64_t d, bool centered) {
    leaf(prefix + ".scale", {d});
    if (centered) {
      leaf(prefix + ".bias", {d});
    } else {
      leaf("", {d}, Op::kIgnore);
    }
  }
};

// Parameters every attention, FF and position builder needs.
struct Shape {
  int64_t d = 0, d_ff = 0, heads = 0, dk = 0, dv = 0, vocab = 0, max_len = 0;
};

struct Builder {
  const GinConfig& gin;
  ModelDescription* m;
  Emitter e;
  Status status;

  void keep(const Status& s) {
    if (status.ok() && !s.ok()) status = s;
  }
  void keep(const Params& p) { keep(p.status()); }
  // The config read so far is within terra's bounds: checked before any leaves are listed, so a
  // config.gin with a billion layers is an error, not a billion leaves.
  bool bounded() {
    Status v = m->config.validate();
    if (!v.ok()) keep(Status::Error(v.code(), gin.name() + ": " + v.message()));
    return status.ok();
  }

  // trax.layers.LayerNorm's own bindings: terra runs centered LayerNorm with one epsilon.
  void layer_norm_bindings() {
    Params ln(gin, "LayerNorm");
    m->config.layernorm_eps = float(ln.number("epsilon", 1e-6));
    if (!ln.boolean("center", true)) {
      keep(refused(ln.binding("center") + " = False", "terra's final LayerNorms are centered, as trax's default"));
    }
    keep(ln);
  }

  // ct.PositionalEncoder(pos_type): the table of tl.PositionalEncoding, fixed-base, or none.
  void positions(const std::string& prefix, const std::string& pos_type, const std::string& binding, const Shape& s) {
    ModelConfig& c = m->config;
    if (pos_type.empty()) {  // tl.PositionalEncoding: a trainable table (sinusoids at init)
      Params pe(gin, "PositionalEncoding");
      long long d_feature = 0;
      const bool has_feature = pe.optional_integer("d_feature", &d_feature);
      keep(pe);
      c.pos_encoding = PosEncoding::kLearned;
      c.max_len = int(s.max_len);
      if (has_feature) {
        c.pos_d_feature = int(d_feature);
        if (!bounded()) return;
        e.leaf(prefix + ".pos.table", {s.max_len, d_feature});
        e.leaf(prefix + ".pos.dense.kernel", {d_feature, s.d});
        m->notes.push_back("PositionalEncoding.d_feature = " + std::to_string(d_feature) +
                           ": positions are table[pos] @ dense, as trax's eval mode (trax's predict mode reads "
                           "row 0 for every position after the first call; see docs/trax-import.md)");
      } else {
        e.leaf(prefix + ".pos.table", {s.max_len, s.d});
      }
    } else if (pos_type == "fixed-base") {
      Params fb(gin, "FixedBasePositionalEncoding");
      std::vector<int> bases{11, 13, 14, 15};
      if (const GinValue* v = fb.raw("bases")) {
        bases.clear();
        for (const GinValue& b : v->items) bases.push_back(int(b.integer));
        if (bases.empty()) keep(refused(fb.written("bases"), "needs at least one base"));
      }
      const long long digits = fb.integer("n_digits", 8);
      keep(fb);
      c.pos_encoding = PosEncoding::kFixedBase;
      c.pos_bases = bases;
      c.pos_n_digits = int(digits);
      c.max_len = int(s.max_len);
      if (!bounded()) return;
      if (digits <= 0 || s.d % digits != 0) {
        keep(refused(fb.written("n_digits"), "must divide d_model " + std::to_string(s.d)));
        return;
      }
      for (size_t b = 0; b < bases.size(); ++b) {
        for (long long i = 0; i < digits; ++i) e.leaf(prefix + ".pos.base_weights", {1, s.d / digits}, Op::kPart);
      }
      e.leaf(prefix + ".pos.start_vec", {1, 1, s.d});
    } else if (pos_type == "no") {
      c.pos_encoding = PosEncoding::kNone;
      c.max_len = int(s.max_len);
    } else {
      keep(refused(binding + " = '" + pos_type + "'", "terra runs PositionalEncoding (pos_type None), 'fixed-base' and 'no'"));
    }
  }

  // PureLSHSelfAttentionWrapper's projections in its 'model' format (pure_lsh_wrapper).
  struct WrapperProjections {
    bool bias = true;
    int num_weights = 3;  // 3: q, k, v (q and k averaged into qk); 2: qk, v
    std::string bias_binding;  // as written, for errors
  };

  // trax LSHSelfAttention (docs/lsh-attention.md): w_q [H, d, dk] (queries and keys), w_v, w_o, no
  // biases; or, with `wrapper`, PureLSHSelfAttention (the same attention, `reference` binds its
  // settings) between its wrapper's Dense projections. A model has one set of LSH settings: every
  // LSH layer must agree with the first (the encoder's n_chunks_after is its own; the decoder's
  // must be 0, as trax's predict mode requires).
  AttentionType lsh_attention(const std::string& p, const std::string& reference, const Shape& s, bool causal,
                              const WrapperProjections* wrapper = nullptr) {
    ModelConfig& c = m->config;
    Params lp(gin, reference);
    const GinValue* buckets = lp.raw("n_buckets");
    ModelConfig buckets_of;  // this layer's n_buckets (set_lsh_buckets), compared with the model's
    if (buckets == nullptr || buckets->kind == GinValue::Kind::kNone) {
      buckets_of.lsh_n_buckets = 0;  // trax's default: derived from each call's length
    } else if (buckets->kind == GinValue::Kind::kInt && buckets->integer <= 0) {
      keep(refused(lp.written("n_buckets"), "must be a positive even int (None: derived from the length)"));
    } else if (buckets->kind == GinValue::Kind::kInt) {
      set_lsh_buckets(buckets_of, {int(std::min<long long>(buckets->integer, 1 << 20))});
    } else if ((buckets->kind == GinValue::Kind::kList || buckets->kind == GinValue::Kind::kTuple) &&
               !buckets->items.empty() && buckets->items.size() <= 8 &&
               std::all_of(buckets->items.begin(), buckets->items.end(), [](const GinValue& f) {
                 return f.kind == GinValue::Kind::kInt && f.integer >= 2 && f.integer <= (1 << 16) && f.integer % 2 == 0;
               })) {
      std::vector<int> factors;
      for (const GinValue& f : buckets->items) factors.push_back(int(f.integer));
      set_lsh_buckets(buckets_of, factors);
    } else {
      keep(refused(lp.written("n_buckets"), "is not an even int or a list of 1 to 8 even ints"));
    }
    const long long chunk = lp.integer("chunk_len", 128), hashes = lp.integer("n_hashes", 1);
    const long long before = lp.integer("n_chunks_before", 1), after = lp.integer("n_chunks_after", 0);
    const long long mem = lp.integer("predict_mem_len", 2048), drop = lp.integer("predict_drop_len", 256);
    // (PureLSHSelfAttention's own `bias` is unused: its wrapper's Dense layers hold the biases.)
    if (!wrapper && lp.boolean("bias", false)) keep(refused(lp.written("bias"), "trax's LSHSelfAttention cannot run with biases"));
    keep(lp);
    if (!status.ok()) return AttentionType::kLSH;
    if (causal && after != 0) {
      keep(refused(lp.written("n_chunks_after"), "the decoder's LSH attention looks only back in trax's predict mode"));
    }
    // The first LSH layer sets the model's settings; the others must agree.
    const bool first = m->lsh.empty();
    auto agree = [&](int* field, long long value, const char* param) {
      if (first) *field = int(value);
      else if (*field != value) {
        keep(refused(lp.written(param), "differs from the model's other LSH layers (" + std::to_string(*field) +
                                            "); terra runs one set of LSH settings"));
      }
    };
    agree(&c.lsh_chunk_len, chunk, "chunk_len");
    agree(&c.lsh_n_buckets, buckets_of.lsh_n_buckets, "n_buckets");
    if (first) c.lsh_bucket_factors = buckets_of.lsh_bucket_factors;
    else if (c.lsh_bucket_factors != buckets_of.lsh_bucket_factors) {
      keep(refused(lp.written("n_buckets"), "factorizes differently from the model's other LSH layers; terra runs one "
                                             "set of LSH settings"));
    }
    const bool bias = wrapper != nullptr && wrapper->bias;
    if (first) c.lsh_bias = bias;
    else if (c.lsh_bias != bias) {
      keep(refused(wrapper ? wrapper->bias_binding : reference,
                   std::string(bias ? "gives" : "gives no") + " biases, unlike the model's other LSH layers; terra runs "
                                                            "one set of LSH settings"));
    }
    agree(&c.lsh_n_hashes, hashes, "n_hashes");
    agree(&c.lsh_n_chunks_before, before, "n_chunks_before");
    if (causal) {
      agree(&c.lsh_predict_mem_len, mem, "predict_mem_len");
      agree(&c.lsh_predict_drop_len, drop, "predict_drop_len");
    } else {
      c.lsh_n_chunks_after = int(after);
    }
    if (first && !causal) {  // the decoder's memory, from the unscoped binding
      Params dp(gin, short_name(reference));
      c.lsh_predict_mem_len = int(dp.integer("predict_mem_len", 2048));
      c.lsh_predict_drop_len = int(dp.integer("predict_drop_len", 256));
      keep(dp);
    }
    if (wrapper == nullptr) {
      e.leaf(p + ".qk.kernel", {s.heads, s.d, s.dk}, Op::kHeadsIn);
      e.leaf(p + ".v.kernel", {s.heads, s.d, s.dv}, Op::kHeadsIn);
      e.leaf(p + ".o.kernel", {s.heads, s.dv, s.d}, Op::kHeadsOut);
    } else {  // Dense layers [d, H*dk] (the wrapper checked H*dk == d), in the wrapper's order
      auto dense = [&](const std::string& name, Op op) {
        e.leaf(p + name + ".kernel", {s.d, s.d}, op);
        if (bias) e.leaf(p + name + ".bias", {s.d}, op);
      };
      dense(".qk", wrapper->num_weights == 3 ? Op::kMean : Op::kWhole);
      if (wrapper->num_weights == 3) dense(".qk", Op::kMean);  // k
      dense(".v", Op::kWhole);
      dense(".o", Op::kWhole);
    }
    m->lsh.push_back({p, !causal, s.heads, s.dk, hashes * buckets_of.lsh_rotation_half(), buckets_of.lsh_buckets_derived()});
    return AttentionType::kLSH;
  }

  // trax PureLSHSelfAttentionWrapper (efficient_attention.py): projections (_ProjectAndSplitHeads),
  // its pure_lsh_implementation on the heads, MergeHeads, an output Dense. In the 'model' weights
  // format the projections are Dense layers n_heads * d_qk wide: q, k and v, with q and k
  // averaged into the shared qk (num_weights 3), or qk and v (2). The average of two Dense layers
  // is one Dense layer whose kernel and bias are the averages: terra stores that.
  AttentionType pure_lsh_wrapper(const std::string& p, const std::string& reference, const std::string& binding,
                                 const Shape& s, bool causal) {
    Params wp(gin, reference);
    const std::vector<std::string> impl = wp.references("pure_lsh_implementation", "");
    WrapperProjections proj;
    proj.bias = wp.boolean("bias", true);
    proj.bias_binding = wp.written("bias");
    const long long num_weights = wp.integer("num_weights", 3);
    const std::string format = wp.text("weights_format", "model");
    const bool rotary = wp.boolean("rotary_position_emb", false);
    // The wrapper passes other keyword arguments on to its implementation, so gin takes settings
    // bound on it too; terra reads the implementation's own bindings only.
    for (const char* param : {"chunk_len", "n_buckets", "n_hashes", "n_chunks_before", "n_chunks_after",
                              "predict_mem_len", "predict_drop_len", "max_length_for_buckets", "n_parallel_heads"}) {
      if (wp.raw(param) != nullptr) {
        keep(refused(wp.written(param), "bind it on the implementation (PureLSHSelfAttention." + std::string(param) +
                                            "): terra reads the LSH settings there"));
      }
    }
    keep(wp);
    if (!status.ok()) return AttentionType::kLSH;
    proj.num_weights = num_weights == 2 ? 2 : 3;
    if (impl.size() != 1 || short_name(impl[0]) != "PureLSHSelfAttention") {
      keep(refused(wp.written("pure_lsh_implementation"),
                   "terra runs PureLSHSelfAttention (MixedLSHSelfAttention switches to dense attention below "
                   "std_length)"));
    } else if (format != "model") {
      keep(refused(wp.written("weights_format"), "terra runs the 'model' format (Dense projections); 'sparse' "
                                                 "(FactoredDense and LocallyConvDense) is not supported yet"));
    } else if (num_weights != 2 && num_weights != 3) {
      keep(refused(wp.written("num_weights"), "must be 2 (qk, v) or 3 (q, k, v)"));
    } else if (rotary) {
      keep(refused(wp.written("rotary_position_emb"), "rotary position embeddings are not supported"));
    } else if (s.heads * s.dk != s.d || s.dv != s.dk) {
      keep(refused(binding + " = @" + reference,
                   "the wrapper's projections are n_heads * d_qk = " + std::to_string(s.heads * s.dk) +
                       " wide, values included (d_v " + std::to_string(s.dv) + "); terra needs d_model " +
                       std::to_string(s.d) + " and d_v = d_qk"));
    }
    if (!status.ok()) return AttentionType::kLSH;
    return lsh_attention(p, impl[0], s, causal, &proj);
  }

  // One attention layer's leaves; returns terra's type. `causal`: decoder.
  AttentionType attention(const std::string& p, const std::string& reference, const std::string& binding, const Shape& s,
                          bool causal) {
    ModelConfig& c = m->config;
    const std::string type = short_name(reference);  // the class; `reference` keeps its gin scope
    if (type == "CausalAttention" || type == "Attention") {  // Dense q, k, v, o with biases
      for (const char* w : {".q", ".k", ".v", ".o"}) e.dense(p + w, s.d, s.d);
      return AttentionType::kDense;
    }
    if (type == "SelfAttention") {
      Params sa(gin, reference);
      const bool bias = sa.boolean("bias", false);
      const bool share_qk = sa.boolean("share_qk", false);
      long long chunk_len = 0;
      const bool chunked = sa.optional_integer("chunk_len", &chunk_len);
      long long mem_len = 0;
      const bool has_mem = sa.optional_integer("predict_mem_len", &mem_len);
      keep(sa);
      if (share_qk) keep(refused(sa.written("share_qk"), "SelfAttention with shared query and key is not dense attention"));
      if (chunked && !causal) {
        keep(refused(sa.written("chunk_len"),
                     "chunked SelfAttention in the encoder attends within chunks, which dense attention does not"));
      }
      if (chunked && causal) {
        m->notes.push_back(sa.written("chunk_len") + ": imported as dense causal attention, which is what trax's "
                           "predict mode computes (every kept position)" +
                           (has_mem ? "; trax keeps " + std::to_string(mem_len) + " positions (predict_mem_len)" : ""));
      }
      // Per-head [H, d, dh] kernels become one [d, H*dh] kernel per projection; no output bias.
      e.leaf(p + ".q.kernel", {s.heads, s.d, s.dk}, Op::kHeadsIn);
      e.leaf(p + ".k.kernel", {s.heads, s.d, s.dk}, Op::kHeadsIn);
      e.leaf(p + ".v.kernel", {s.heads, s.d, s.dv}, Op::kHeadsIn);
      e.leaf(p + ".o.kernel", {s.heads, s.dv, s.d}, Op::kHeadsOut);
      if (bias) {
        e.leaf(p + ".q.bias", {s.heads, s.dk});
        e.leaf(p + ".k.bias", {s.heads, s.dk});
        e.leaf(p + ".v.bias", {s.heads, s.dv});
      } else {
        for (const char* w : {".q.bias", ".k.bias", ".v.bias"}) m->zeros.push_back(p + w);
      }
      m->zeros.push_back(p + ".o.bias");
      return AttentionType::kDense;
    }
    if (type == "MultiplicativeConvCausalAttention") {
      Params mc(gin, reference);
      long long S = 0;
      if (!mc.optional_integer("sparsity", &S)) S = s.heads;  // trax: sparsity None means n_heads
      const long long lk = mc.integer("length_kernel_size", 3);
      if (mc.boolean("share_qk", false)) keep(refused(mc.written("share_qk"), "not supported"));
      const std::string out = mc.text("output_layer_type", "none"), concat = mc.text("v_concat_type", "none");
      if (out != "none") keep(refused(mc.written("output_layer_type"), "terra runs output_layer_type 'none'"));
      if (concat != "none") keep(refused(mc.written("v_concat_type"), "terra runs v_concat_type 'none'"));
      keep(mc);
      if (S <= 0 || s.d % S != 0) {
        keep(refused(mc.written("sparsity"), "must divide d_model " + std::to_string(s.d)));
        return AttentionType::kMultConv;
      }
      c.qkv_sparsity = int(S);
      c.qkv_length_kernel = int(lk);
      c.qkv_kernel_size = 3;
      const int64_t M = s.d / S;
      e.leaf(p + ".mult.gating", {S, s.d});
      e.leaf(p + ".mult.projection", {s.d, M});
      e.leaf(p + ".mult.bias", {s.d});
      if (S == 1) {  // LocallyConvDense with one module is a Dense
        for (const char* w : {".q", ".k", ".v"}) e.dense(p + w, s.d, s.d);
      } else {
        for (const char* w : {".conv_q", ".conv_k", ".conv_v"}) {
          const int64_t kw = std::string(w) == ".conv_v" ? 1 : 3;
          e.leaf(p + w + ".kernel", {lk, kw, M, M});
          e.leaf(p + w + ".bias", {M});
        }
      }
      return AttentionType::kMultConv;
    }
    if (type == "LSHSelfAttention") return lsh_attention(p, reference, s, causal);
    if (type == "PureLSHSelfAttentionWrapper") return pure_lsh_wrapper(p, reference, binding, s, causal);
    if (type == "PureLSHSelfAttention") {
      keep(refused(binding + " = @" + reference,
                   "PureLSHSelfAttention has no projections of its own: bind PureLSHSelfAttentionWrapper, with "
                   "pure_lsh_implementation = @PureLSHSelfAttention"));
    } else {
      keep(refused(binding + " = @" + reference,
                   "terra runs CausalAttention, Attention, SelfAttention, MultiplicativeConvCausalAttention, "
                   "LSHSelfAttention and PureLSHSelfAttentionWrapper"));
    }
    return AttentionType::kDense;
  }

  // ct.FeedForwardWithOptions: LayerNorm, dense or sparse FF, then the SRU branch's leaves.
  void feed_forward(const std::string& ff, const Shape& s, bool centered) {
    const ModelConfig& c = m->config;
    e.norm(ff + ".norm", s.d, centered);
    if (c.ff_sparsity == 0) {
      e.dense(ff + ".w1", s.d, s.d_ff);
      e.dense(ff + ".w2", s.d_ff, s.d);
    } else {
      const int64_t N = c.ff_sparsity, B = s.d_ff / N, r = c.d_lowrank;
      e.leaf(ff + ".m1", {s.d, r});
      e.leaf(ff + ".m2", {r, B, N});
      e.leaf(ff + ".mb", {B, N});
      e.leaf(ff + ".w1", {s.d, B, N});
      e.leaf(ff + ".w2", {N, B, s.d});
      e.leaf(ff + ".b2", {s.d});
    }
    if (c.sru_layers > 0) {
      const int64_t n = c.sru_width;
      e.norm(ff + ".sru.norm", s.d, centered);
      e.dense(ff + ".sru.in", s.d, n);
      for (int j = 0; j < c.sru_layers; ++j) e.dense(ff + ".sru.cells." + std::to_string(j), n, 3 * n);
      e.dense(ff + ".sru.out", n, s.d);
    }
  }

  // ff_activation: the dense FF's activation.
  void activation(Params& p, const std::string& fallback) {
    const std::string act = p.reference("ff_activation", fallback);
    ModelConfig& c = m->config;
    if (act == "Relu") c.ff_activation = 0;
    else if (act == "Gelu") c.ff_activation = 1;
    else if (act == "FastGelu") c.ff_activation = 2;
    else keep(refused(p.written("ff_activation"), "terra runs Relu, Gelu and FastGelu"));
  }

  // The decoder blocks of the language models (one attention layer each, attention types cycled
  // over layers): LayerNorm + attention, then the FF.
  void lm_layers(const std::string& cls, const std::vector<std::string>& attention_types, long long layers,
                 const Shape& s) {
    ModelConfig& c = m->config;
    c.decoder_attention_types.clear();
    for (long long L = 0; L < layers && L < c.n_decoder_layers; ++L) {  // (bounded by the validated config)
      const std::string layer = "decoder.layers." + std::to_string(L);
      e.norm(layer + ".attn.0.norm", s.d, true);
      const std::string& type = attention_types[size_t(L) % attention_types.size()];
      const AttentionType t = attention(layer + ".attn.0", type, cls + ".attention_type", s, true);
      if (size_t(L) < attention_types.size()) c.decoder_attention_types.push_back(t);
      feed_forward(layer + ".ff", s, true);
    }
  }

  // The FF options shared by the configurable classes: ff_activation, ff_sparsity, ff_use_sru,
  // ff_sparsity_type.
  void ff_options(Params& p, const Shape& s, const std::string& default_activation) {
    ModelConfig& c = m->config;
    activation(p, default_activation);
    const std::string type = p.text("ff_sparsity_type", "1inN");
    const GinValue* sparsity = p.raw("ff_sparsity");
    if (sparsity != nullptr && !(sparsity->kind == Kind::kInt && sparsity->integer == 0)) {
      if (type != "1inN") keep(refused(p.written("ff_sparsity_type"), "terra runs the '1inN' sparse FF"));
      // An int N (d_lowrank = d_ff / N), or (N, d_lowrank), or (N, d_lowrank, temperature, quant_prob),
      // or the same as a string "N d_lowrank".
      std::vector<long long> values;
      if (sparsity->kind == Kind::kInt) {
        values = {sparsity->integer};
      } else if (sparsity->kind == Kind::kList || sparsity->kind == Kind::kTuple) {
        for (const GinValue& v : sparsity->items) values.push_back(v.kind == Kind::kInt ? v.integer : 0);
      } else if (sparsity->kind == Kind::kString) {
        size_t i = 0;
        while (i < sparsity->text.size()) {
          values.push_back(std::atoll(sparsity->text.c_str() + i));
          i = sparsity->text.find(' ', i);
          if (i == std::string::npos) break;
          ++i;
        }
      }
      if (values.empty() || values[0] <= 0 || s.d_ff % values[0] != 0) {
        keep(refused(p.written("ff_sparsity"), "needs a block size N that divides d_ff " + std::to_string(s.d_ff)));
        return;
      }
      c.ff_sparsity = int(values[0]);
      c.d_lowrank = int(values.size() >= 2 ? values[1] : s.d_ff / values[0]);
    }
    const GinValue* sru = p.raw("ff_use_sru");
    if (sru != nullptr) {
      if (sru->kind == Kind::kInt) {
        c.sru_layers = int(sru->integer);
        c.sru_width = 32;  // trax's default width for an int
      } else if ((sru->kind == Kind::kTuple || sru->kind == Kind::kList) && sru->items.size() == 2) {
        c.sru_layers = int(sru->items[0].integer);
        c.sru_width = int(sru->items[1].integer);
      } else {
        keep(refused(p.written("ff_use_sru"), "expected an int or (layers, width)"));
      }
    }
    keep(p);
  }

  // tl.SparseDenseWithOptions: Dense(V), or FactoredDense 'mult' for loss_sparsity.
  void loss(Params& p, const Shape& s, int64_t input_width) {
    ModelConfig& c = m->config;
    const long long sparsity = p.integer("loss_sparsity", 0);
    const std::string type = p.text("loss_sparsity_type", "mult");
    if (p.integer("loss_d_lowrank", 0) != 0) keep(refused(p.written("loss_d_lowrank"), "not supported"));
    long long ignored = 0;
    if (p.optional_integer("loss_sparsity_prob", &ignored) || (p.raw("loss_sparsity_prob") &&
                                                              p.raw("loss_sparsity_prob")->kind == Kind::kFloat)) {
      keep(refused(p.written("loss_sparsity_prob"), "a loss that switches between sparse and dense is not supported"));
    }
    keep(p);
    if (sparsity == 0) {
      e.dense("loss", input_width, s.vocab);
      return;
    }
    if (type != "mult") keep(refused(p.written("loss_sparsity_type"), "terra runs the 'mult' sparse loss"));
    c.loss_sparsity = int(sparsity);
    e.leaf("loss.gating", {sparsity, input_width});
    e.leaf("loss.projection", {input_width, s.vocab / sparsity});
    e.leaf("loss.bias", {s.vocab});
  }

  // Options of the research models that change the layer tree in ways terra does not run.
  void refuse_unsupported(Params& p) {
    p.require_default("attention_chunk_size", "chunked attention is not supported");
    p.require_default("n_layers_forget", "forgetting blocks are not supported");
    p.require_default("half_before_layer", "blocks of changing width are not supported");
    p.require_default("double_after_layer", "blocks of changing width are not supported");
    p.require_default("use_bfloat16", "bfloat16 weights are read as f32; set it to False");
    keep(p);
  }
};

Shape common_shape(Params& p, int64_t vocab_hint, const char* vocab_param, long long d_default, long long d_ff_default,
                   long long heads_default, long long max_len_default) {
  Shape s;
  s.vocab = p.integer(vocab_param, vocab_hint);
  s.d = p.integer("d_model", d_default);
  s.d_ff = p.integer("d_ff", d_ff_default);
  s.heads = p.integer("n_heads", heads_default);
  s.max_len = p.integer("max_len", max_len_default);
  if (s.heads > 0) s.dk = s.dv = s.d / s.heads;
  return s;
}

void apply_shape(ModelConfig& c, const Shape& s) {
  c.vocab_size = int(s.vocab);
  c.d_model = int(s.d);
  c.d_ff = int(s.d_ff);
  c.n_heads = int(s.heads);
  c.max_len = int(s.max_len);
}

Status describe_transformer_lm(Builder& b, int64_t vocab_hint, bool configurable) {
  ModelConfig& c = b.m->config;
  const std::string cls = configurable ? "ConfigurableTransformerLM" : "TransformerLM";
  Params p(b.gin, cls);
  const Shape s = common_shape(p, vocab_hint, "vocab_size", 512, 2048, 8, 2048);
  const long long layers = p.integer("n_layers", 6);
  apply_shape(c, s);
  c.block_type = BlockType::kResidual;
  c.n_decoder_layers = int(layers);
  c.n_decoder_attention_layers = 1;
  b.layer_norm_bindings();
  std::vector<std::string> attention_types{"CausalAttention"};
  std::string pos_type;
  if (configurable) {
    b.refuse_unsupported(p);
    b.ff_options(p, s, "Relu");
    attention_types = p.references("attention_type", "CausalAttention");
    pos_type = p.text("pos_type", "");
  } else {
    b.activation(p, "Relu");
  }
  b.keep(p);
  if (!b.bounded()) return b.status;
  b.e.leaf("embedding", {s.vocab, s.d});
  b.positions("decoder", pos_type, cls + ".pos_type", s);
  b.lm_layers(cls, attention_types, layers, s);
  b.e.norm("decoder.out_norm", s.d, true);
  if (configurable) {
    b.loss(p, s, s.d);
  } else {
    b.e.dense("loss", s.d, s.vocab);
  }
  c.center_layernorm = true;
  return b.status;
}

Status describe_reformer_lm(Builder& b, int64_t vocab_hint) {
  ModelConfig& c = b.m->config;
  Params p(b.gin, "ReformerLM");
  Shape s = common_shape(p, vocab_hint, "vocab_size", 512, 2048, 8, 2048);
  s.dk = p.integer("d_attention_key", 64);
  s.dv = p.integer("d_attention_value", 64);
  const long long layers = p.integer("n_layers", 6);
  apply_shape(c, s);
  c.d_attention_key = int(s.dk);
  c.d_attention_value = int(s.dv);
  c.block_type = BlockType::kReversible;
  c.decoder_output = DecoderOutput::kConcat;
  c.n_decoder_layers = int(layers);
  c.n_decoder_attention_layers = 1;
  b.layer_norm_bindings();
  b.refuse_unsupported(p);
  b.ff_options(p, s, "FastGelu");
  const std::vector<std::string> attention_types = p.references("attention_type", "SelfAttention");
  const std::string pos_type = p.text("pos_type", "");
  b.keep(p);
  if (!b.bounded()) return b.status;
  b.e.leaf("embedding", {s.vocab, s.d});
  b.positions("decoder", pos_type, "ReformerLM.pos_type", s);
  b.lm_layers("ReformerLM", attention_types, layers, s);
  b.e.norm("decoder.out_norm", 2 * s.d, true);  // over the concatenated streams
  b.loss(p, s, 2 * s.d);
  c.center_layernorm = true;
  return b.status;
}

Status describe_terraformer(Builder& b, int64_t vocab_hint) {
  ModelConfig& c = b.m->config;
  Params p(b.gin, "ConfigurableTerraformer");
  Shape s = common_shape(p, vocab_hint, "input_vocab_size", 512, 2048, 8, 2048);
  long long dk = 0, dv = 0;
  if (p.optional_integer("d_attention_key", &dk)) s.dk = dk;
  if (p.optional_integer("d_attention_value", &dv)) s.dv = dv;
  long long out_vocab = 0;
  const bool separate_output = p.optional_integer("output_vocab_size", &out_vocab);
  apply_shape(c, s);
  c.d_attention_key = int(s.dk);
  c.d_attention_value = int(s.dv);
  c.n_encoder_layers = int(p.integer("n_encoder_layers", 6));
  c.n_decoder_layers = int(p.integer("n_decoder_layers", 6));
  c.n_decoder_attention_layers = int(p.integer("n_decoder_attention_layers", 2));
  c.reversible_encoder = p.boolean("reversible_encoder", false);
  c.use_two_swaps_per_encoder_block = p.boolean("use_two_swaps_per_encoder_block", true);
  c.center_layernorm = p.boolean("center_layernorm", true);
  if (separate_output) c.output_vocab_size = int(out_vocab);
  b.layer_norm_bindings();
  b.refuse_unsupported(p);
  b.ff_options(p, s, "Relu");
  const std::string encoder_type = p.references("encoder_attention_type", "SelfAttention")[0];
  const std::vector<std::string> decoder_types = p.references("encoder_decoder_attention_type", "SelfAttention");
  const std::string pos_type = p.text("pos_type", "fixed-base");
  b.keep(p);
  if (!b.bounded()) return b.status;
  if (s.heads <= 0 || (s.d / 2) % s.heads != 0) {
    return refused(p.written("n_heads"), "trax requires n_heads to divide d_model / 2");
  }

  b.e.leaf("embedding", {s.vocab, s.d});
  b.positions("encoder", pos_type, "ConfigurableTerraformer.pos_type", s);
  Shape so = s;
  if (separate_output) {
    so.vocab = out_vocab;
    b.e.leaf("decoder.embedding", {out_vocab, s.d});
  }
  b.positions("decoder", pos_type, "ConfigurableTerraformer.pos_type", s);
  const bool centered = c.center_layernorm;
  for (int L = 0; L < c.n_encoder_layers; ++L) {
    const std::string layer = "encoder.layers." + std::to_string(L);
    b.e.norm(layer + ".attn.0.norm", s.d, centered);
    // The encoder's attention heads are d_model / n_heads wide (reformer.EncoderBlock).
    Shape se = s;
    se.dk = se.dv = s.d / s.heads;
    const AttentionType t = b.attention(layer + ".attn.0", encoder_type, "ConfigurableTerraformer.encoder_attention_type",
                                        se, false);
    c.encoder_attention_type = t;
    if (short_name(encoder_type) == "SelfAttention" && (s.dk != se.dk || s.dv != se.dv)) {
      return refused(p.written("d_attention_key"),
                     "the encoder's attention is d_model / n_heads wide per head, the decoder's must match it here");
    }
    b.feed_forward(layer + ".ff", s, centered);
  }
  if (c.n_encoder_layers > 0 && !c.reversible_encoder) {
    b.e.dense("encoder.out_dense", s.d, s.d);
    b.e.norm("encoder.out_norm", s.d, true);
  }
  c.decoder_attention_types.clear();
  for (int L = 0; L < c.n_decoder_layers; ++L) {
    const std::string layer = "decoder.layers." + std::to_string(L);
    const std::string& type = decoder_types[size_t(L) % decoder_types.size()];
    AttentionType t = AttentionType::kDense;
    for (int k = 0; k < c.n_decoder_attention_layers; ++k) {
      const std::string a = layer + ".attn." + std::to_string(k);
      b.e.norm(a + ".norm", s.d, centered);
      t = b.attention(a, type, "ConfigurableTerraformer.encoder_decoder_attention_type", s, true);
    }
    if (size_t(L) < decoder_types.size()) c.decoder_attention_types.push_back(t);
    b.feed_forward(layer + ".ff", s, centered);
  }
  b.e.norm("decoder.out_norm", s.d, true);
  b.loss(p, so, s.d);
  return b.status;
}

}  // namespace

const std::vector<std::string>& supported_model_classes() {
  static const std::vector<std::string> classes{"TransformerLM", "ConfigurableTransformerLM", "ReformerLM",
                                                "ConfigurableTerraformer"};
  return classes;
}

Result<std::string> find_model_class(const GinConfig& gin) {
  for (const auto& [key, value] : gin.bindings()) {
    const std::string param = key.substr(key.rfind('.') + 1);
    const std::string configurable = short_name(key.substr(0, key.rfind('.')));
    if (param == "model" && (configurable == "train" || configurable == "Loop") && value.kind == Kind::kReference) {
      return short_name(value.text);
    }
  }
  std::vector<std::string> found;
  for (const std::string& cls : supported_model_classes()) {
    for (const auto& [key, value] : gin.bindings()) {
      const size_t dot = key.rfind('.');
      if (key.find('/') == std::string::npos && short_name(key.substr(0, dot)) == cls) {
        found.push_back(cls);
        break;
      }
    }
  }
  if (found.size() == 1) return found[0];
  std::string all;
  for (const std::string& cls : supported_model_classes()) all += (all.empty() ? "" : ", ") + cls;
  return Status::Error(ErrorCode::kInvalidArgument,
                       gin.name() + ": " + (found.empty() ? "names no model class terra imports (" + all + ")"
                                                          : "binds several model classes") +
                           "; give the class with --trax-model");
}

Result<ModelDescription> describe_model(const GinConfig& gin, const std::string& model_class, int64_t vocab_hint) {
  ModelDescription m;
  m.model_class = short_name(model_class);
  Builder b{gin, &m, Emitter{&m.leaves}, Status::Ok()};
  Status s;
  if (m.model_class == "TransformerLM") {
    s = describe_transformer_lm(b, vocab_hint, false);
  } else if (m.model_class == "ConfigurableTransformerLM") {
    s = describe_transformer_lm(b, vocab_hint, true);
  } else if (m.model_class == "ReformerLM") {
    s = describe_reformer_lm(b, vocab_hint);
  } else if (m.model_class == "ConfigurableTerraformer") {
    s = describe_terraformer(b, vocab_hint);
  } else {
    std::string all;
    for (const std::string& cls : supported_model_classes()) all += (all.empty() ? "" : ", ") + cls;
    return Status::Error(ErrorCode::kUnsupported, "trax model class '" + model_class + "' is not one terra imports (" + all + ")");
  }
  if (!s.ok()) return s;
  Status valid = m.config.validate();
  if (!valid.ok()) return Status::Error(valid.code(), gin.name() + ": " + valid.message());
  Status supported = m.config.check_supported();
  if (!supported.ok()) return Status::Error(supported.code(), gin.name() + ": " + supported.message());
  return m;
}

}  // namespace terra::trax
