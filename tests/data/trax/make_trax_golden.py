"""Golden data made by trax itself, for terra's import tests (development time only: neither
terra's build nor its tests run this; they read what it wrote, in generated/).

For each case: a small model is built by trax from gin bindings, trained for one step of SGD by
trax's own training.Loop (so trax writes the checkpoint, model.pkl.gz + model.weights.npy.gz, and
the operative config.gin with its own code), then:
  - eval-mode log-probabilities of every position of a fixed sequence -> logprobs.npy [T, V]
    (for encoder-decoder models: of the decoder positions after the input);
  - predict-mode greedy decoding with trax's decoding.autoregressive_sample from the saved
    checkpoint -> greedy.npy;
  - the same weights in trax's older layout (flat_weights inside the pickle) -> old/model.pkl.gz.
LSH cases (terraformer_lsh*) write predict-mode outputs only, with the random rotations trax's
LSHSelfAttention hashed with (see lsh_outputs).
Usage: python make_trax_golden.py OUT_DIR [CASE...]   (with trax importable; see README.md)
  e.g. python make_trax_golden.py OUT_DIR terraformer_lsh terraformer_lsh_drop   (only the LSH cases)
"""
import gzip
import os
import pickle
import random
import shutil
import sys

import types

import tensorflow as tf
# trax (7c189c2c) imports tf.estimator, which TensorFlow 2.16+ no longer has; trax's models do not use it.
if not hasattr(tf, "estimator"):
  tf.estimator = types.ModuleType("estimator")
  sys.modules["tensorflow.estimator"] = tf.estimator
import gin
import numpy as np
import jax
import jax.numpy as jnp
import trax
from trax import layers as tl
from trax import shapes
from trax.layers.research import efficient_attention
from trax.supervised import decoding, training

# name: (gin bindings, model class, vocab, kind, sequence)
CASES = {}


def case(name, model, vocab, bindings, kind="lm", seq_len=12, input_len=0, greedy=8, layouts=(), lsh=False,
         predict_len=40, bias_noise=False):
  """layouts: older on-disk layouts to write too: 'old' (flat_weights inside the pickle), 'old_bf16'
  (its bfloat16 form: (uint16 array, 'bfloat16') pairs), 'bf16' (Loop's layout, bfloat16 as uint16).
  lsh: write the LSH cases' predict-mode outputs (lsh_outputs) instead of the eval-mode ones;
  predict_len: their teacher-forced sequence's length; bias_noise: see pure_lsh_bindings."""
  CASES[name] = dict(model=model, vocab=vocab, bindings=bindings, kind=kind, seq_len=seq_len,
                     input_len=input_len, greedy=greedy, layouts=layouts, lsh=lsh, predict_len=predict_len,
                     bias_noise=bias_noise)


case("transformer_lm", "TransformerLM", 32, """
TransformerLM.vocab_size = 32
TransformerLM.d_model = 32
TransformerLM.d_ff = 64
TransformerLM.n_layers = 2
TransformerLM.n_heads = 4
TransformerLM.max_len = 64
""", layouts=("old", "old_bf16", "bf16"))

# ConfigurableTransformerLM, dense, with FastGelu and trax's PositionalEncoding table.
case("ctlm_dense_fastgelu", "ConfigurableTransformerLM", 32, """
ConfigurableTransformerLM.vocab_size = 32
ConfigurableTransformerLM.d_model = 32
ConfigurableTransformerLM.d_ff = 64
ConfigurableTransformerLM.n_layers = 2
ConfigurableTransformerLM.n_heads = 4
ConfigurableTransformerLM.max_len = 64
ConfigurableTransformerLM.ff_activation = @trax.layers.FastGelu
""")

# The paper's Scaling Transformer: every sparse option (sparse FF, mult-conv QKV, sparse loss, SRU),
# fixed-base positions.
case("ctlm_scaling_sparse", "ConfigurableTransformerLM", 32, """
ConfigurableTransformerLM.vocab_size = 32
ConfigurableTransformerLM.d_model = 32
ConfigurableTransformerLM.d_ff = 64
ConfigurableTransformerLM.n_layers = 2
ConfigurableTransformerLM.n_heads = 4
ConfigurableTransformerLM.max_len = 64
ConfigurableTransformerLM.ff_sparsity = 8
ConfigurableTransformerLM.ff_use_sru = (1, 8)
ConfigurableTransformerLM.loss_sparsity = 4
ConfigurableTransformerLM.attention_type = @MultiplicativeConvCausalAttention
ConfigurableTransformerLM.pos_type = 'fixed-base'
MultiplicativeConvCausalAttention.sparsity = 4
MultiplicativeConvCausalAttention.length_kernel_size = 3
""", layouts=("old",))

# SelfAttention (per-head weights, with biases) and Gelu; sparse FF with an explicit rank.
case("ctlm_selfattn_gelu", "ConfigurableTransformerLM", 32, """
ConfigurableTransformerLM.vocab_size = 32
ConfigurableTransformerLM.d_model = 32
ConfigurableTransformerLM.d_ff = 64
ConfigurableTransformerLM.n_layers = 2
ConfigurableTransformerLM.n_heads = 2
ConfigurableTransformerLM.max_len = 64
ConfigurableTransformerLM.ff_activation = @trax.layers.Gelu
ConfigurableTransformerLM.attention_type = @SelfAttention
SelfAttention.predict_mem_len = 64
SelfAttention.predict_drop_len = 64
""")

# SelfAttention with biases: trax's predict mode cannot run it (its incremental path unpacks four
# weights), so this case has eval-mode log-probabilities only.
case("ctlm_selfattn_bias", "ConfigurableTransformerLM", 32, """
ConfigurableTransformerLM.vocab_size = 32
ConfigurableTransformerLM.d_model = 32
ConfigurableTransformerLM.d_ff = 64
ConfigurableTransformerLM.n_layers = 2
ConfigurableTransformerLM.n_heads = 2
ConfigurableTransformerLM.max_len = 64
ConfigurableTransformerLM.attention_type = @SelfAttention
SelfAttention.bias = True
SelfAttention.predict_mem_len = 64
SelfAttention.predict_drop_len = 64
""", greedy=0)

# ReformerLM: SelfAttention with key/value widths of 24 per head (not d_model / n_heads),
# FastGelu, concatenated output streams.
case("reformer_lm", "ReformerLM", 32, """
ReformerLM.vocab_size = 32
ReformerLM.d_model = 32
ReformerLM.d_ff = 64
ReformerLM.d_attention_key = 24
ReformerLM.d_attention_value = 24
ReformerLM.n_layers = 2
ReformerLM.n_heads = 2
ReformerLM.max_len = 64
ReformerLM.attention_type = @SelfAttention
SelfAttention.predict_mem_len = 64
SelfAttention.predict_drop_len = 64
""")

# ConfigurableTerraformer with trax's defaults: SelfAttention in the encoder and the decoder,
# fixed-base positions, two decoder attention layers per block.
case("terraformer_default", "ConfigurableTerraformer", 32, """
ConfigurableTerraformer.input_vocab_size = 32
ConfigurableTerraformer.d_model = 32
ConfigurableTerraformer.d_ff = 64
ConfigurableTerraformer.n_encoder_layers = 2
ConfigurableTerraformer.n_decoder_layers = 2
ConfigurableTerraformer.n_heads = 4
ConfigurableTerraformer.max_len = 64
SelfAttention.predict_mem_len = 64
SelfAttention.predict_drop_len = 64
""", kind="encdec", input_len=7)

# terraformer_c4_medium.gin at small width: dense Attention encoder, mult-conv decoder, sparse FF,
# SRU, sparse loss, reversible encoder, trax's PositionalEncoding table.
case("terraformer_c4_small", "ConfigurableTerraformer", 32, """
ConfigurableTerraformer.input_vocab_size = 32
ConfigurableTerraformer.d_model = 32
ConfigurableTerraformer.d_ff = 64
ConfigurableTerraformer.n_encoder_layers = 2
ConfigurableTerraformer.n_decoder_layers = 2
ConfigurableTerraformer.n_heads = 4
ConfigurableTerraformer.max_len = 64
ConfigurableTerraformer.encoder_attention_type = @Attention
ConfigurableTerraformer.encoder_decoder_attention_type = @MultiplicativeConvCausalAttention
ConfigurableTerraformer.ff_sparsity = 8
ConfigurableTerraformer.ff_use_sru = (1, 8)
ConfigurableTerraformer.loss_sparsity = 4
ConfigurableTerraformer.reversible_encoder = True
ConfigurableTerraformer.pos_type = None
MultiplicativeConvCausalAttention.sparsity = 4
MultiplicativeConvCausalAttention.length_kernel_size = 3
""", kind="encdec", input_len=7, layouts=("old",))

# sparse_c4_pretrain_16gb_adafactor.gin's options: use_two_swaps_per_encoder_block False, RMS
# LayerNorm; and a separate output vocabulary, positions through trax's d_feature.
case("terraformer_one_swap_outvocab", "ConfigurableTerraformer", 32, """
ConfigurableTerraformer.input_vocab_size = 32
ConfigurableTerraformer.output_vocab_size = 24
ConfigurableTerraformer.d_model = 32
ConfigurableTerraformer.d_ff = 64
ConfigurableTerraformer.n_encoder_layers = 3
ConfigurableTerraformer.n_decoder_layers = 2
ConfigurableTerraformer.n_heads = 4
ConfigurableTerraformer.max_len = 64
ConfigurableTerraformer.encoder_attention_type = @Attention
ConfigurableTerraformer.encoder_decoder_attention_type = @CausalAttention
ConfigurableTerraformer.use_two_swaps_per_encoder_block = False
ConfigurableTerraformer.center_layernorm = False
ConfigurableTerraformer.ff_sparsity = 8
ConfigurableTerraformer.pos_type = None
PositionalEncoding.d_feature = 8
""", kind="encdec", input_len=7)


# LSHSelfAttention in the encoder and the decoder, bound as trax's scientific_papers_terraformer.gin
# binds it (the encoder's copy scoped as ref2_encoder, bidirectional: n_chunks_after 1). One decoder
# attention layer per block, dense FF, no dropout. The decoder's predict memory (16) is passed by
# the 40 teacher-forced steps: with predict_drop_len = predict_mem_len trax drops all of it at once.
def lsh_bindings(vocab, chunk_len, n_buckets, n_hashes, mem, drop, attention="LSHSelfAttention",
                 layer="LSHSelfAttention", wrapper="", max_len=64):
  """The bindings of the LSH cases: `attention` in the encoder (scoped ref2_encoder) and the decoder,
  `layer` (the class holding the LSH settings) configured, `wrapper` any further bindings."""
  return f"""
ConfigurableTerraformer.input_vocab_size = {vocab}
ConfigurableTerraformer.d_model = 32
ConfigurableTerraformer.d_ff = 64
ConfigurableTerraformer.n_encoder_layers = 1
ConfigurableTerraformer.n_decoder_layers = 2
ConfigurableTerraformer.n_heads = 2
ConfigurableTerraformer.max_len = {max_len}
ConfigurableTerraformer.dropout = 0.0
ConfigurableTerraformer.ff_dropout = 0.0
ConfigurableTerraformer.n_decoder_attention_layers = 1
ConfigurableTerraformer.pos_type = 'fixed-base'
ConfigurableTerraformer.encoder_attention_type = @ref2_encoder/{attention}
ConfigurableTerraformer.encoder_decoder_attention_type = @{attention}
{wrapper}{layer}.chunk_len = {chunk_len}
{layer}.n_buckets = {n_buckets}
{layer}.n_hashes = {n_hashes}
{layer}.n_chunks_before = 1
{layer}.n_chunks_after = 0
{layer}.predict_mem_len = {mem}
{layer}.predict_drop_len = {drop}
ref2_encoder/{layer}.n_chunks_after = 1
"""

case("terraformer_lsh", "ConfigurableTerraformer", 32,
     lsh_bindings(vocab=32, chunk_len=4, n_buckets=4, n_hashes=2, mem=16, drop=16),
     kind="encdec", input_len=8, greedy=30, lsh=True)

# The same with a memory of 12 that drops 4 at a time, so decoding rolls it several times; one hash
# round of 6 buckets, chunks of 3.
case("terraformer_lsh_drop", "ConfigurableTerraformer", 16,
     lsh_bindings(vocab=16, chunk_len=3, n_buckets=6, n_hashes=1, mem=12, drop=4),
     kind="encdec", input_len=6, greedy=30, lsh=True)

# Factorized buckets (hash_vecs with a list): 4 x 6 = 24 buckets from 2 + 3 rotation columns per
# round; one round, chunks of 4, a memory of 12 dropping 4.
case("terraformer_lsh_factored", "ConfigurableTerraformer", 16,
     lsh_bindings(vocab=16, chunk_len=4, n_buckets=[4, 6], n_hashes=1, mem=12, drop=4),
     kind="encdec", input_len=8, greedy=30, lsh=True)


# PureLSHSelfAttention behind its wrapper (efficient_attention.py PureLSHSelfAttentionWrapper), bound
# as trax's scientific_papers_terraformer_pretrained.gin and terraformer_purelsh_copy.gin bind it:
# the wrapper's projections in 'model' format (Dense layers: q, k and v averaged into qk when
# num_weights is 3; qk and v when 2; an output Dense), with or without biases. bias_noise: the
# wrapper's biases get N(0, 0.5) noise after the training step (trax starts them at ~1e-6), so that
# the outputs depend on them.
def pure_lsh_bindings(num_weights, bias, **settings):
  return lsh_bindings(attention="PureLSHSelfAttentionWrapper", layer="PureLSHSelfAttention", wrapper=f"""\
PureLSHSelfAttentionWrapper.pure_lsh_implementation = @PureLSHSelfAttention
ref2_encoder/PureLSHSelfAttentionWrapper.pure_lsh_implementation = @ref2_encoder/PureLSHSelfAttention
PureLSHSelfAttentionWrapper.num_weights = {num_weights}
PureLSHSelfAttentionWrapper.bias = {bias}
""", **settings)

# The default wrapper (q, k, v and output Dense layers with biases), two hash rounds; the memory
# of 16 is passed twice by the 40 steps.
case("terraformer_purelsh", "ConfigurableTerraformer", 32,
     pure_lsh_bindings(3, True, vocab=32, chunk_len=4, n_buckets=4, n_hashes=2, mem=16, drop=16),
     kind="encdec", input_len=8, greedy=30, lsh=True, bias_noise=True)

# Two projections (qk and v) with biases, factorized buckets (4 x 6), a memory of 12 dropping 4.
case("terraformer_purelsh_qk_v", "ConfigurableTerraformer", 16,
     pure_lsh_bindings(2, True, vocab=16, chunk_len=4, n_buckets=[4, 6], n_hashes=1, mem=12, drop=4),
     kind="encdec", input_len=8, greedy=30, lsh=True, bias_noise=True)

# No biases, one round of 6 buckets in chunks of 3, a memory of 12 dropping 4.
case("terraformer_purelsh_nobias", "ConfigurableTerraformer", 16,
     pure_lsh_bindings(3, False, vocab=16, chunk_len=3, n_buckets=6, n_hashes=1, mem=12, drop=4),
     kind="encdec", input_len=6, greedy=30, lsh=True)


# trax's default bucket count (n_buckets None): each call derives it from the rows it hashes
# (hash_vectors: 2 * max(1, rows // chunk_len), factorized above 128), so the rotations' shape, and
# with it their values, follow the length. LSHSelfAttention with 2 rounds over an 8-token input
# (the encoder hashes 8 rows into 4 buckets, the decoder's first call its 16-row memory into 8,
# every later row 2 rows into 2).
case("terraformer_lsh_derived", "ConfigurableTerraformer", 32,
     lsh_bindings(vocab=32, chunk_len=4, n_buckets=None, n_hashes=2, mem=16, drop=16),
     kind="encdec", input_len=8, greedy=30, lsh=True)

# PureLSHSelfAttentionWrapper with a derived count over a 130-token input in chunks of 2: the
# encoder's 130 rows give 130 buckets, over 128, so trax factorizes them into [16, 8]; the
# decoder's first call (131 rows, more than predict_drop_len) hashes 132 rows into [16, 8] too;
# every later row into 2. Memory 12 rows dropping 4.
case("terraformer_purelsh_derived", "ConfigurableTerraformer", 16,
     pure_lsh_bindings(3, True, vocab=16, chunk_len=2, n_buckets=None, n_hashes=1, mem=12, drop=4, max_len=256),
     kind="encdec", input_len=130, greedy=30, lsh=True, bias_noise=True)


def out_vocab(c):
  for line in c["bindings"].splitlines():
    if "output_vocab_size" in line:
      return int(line.split("=")[1])
  return c["vocab"]


def sequence(vocab, n, seed):
  rng = np.random.RandomState(seed)
  return rng.randint(1, vocab, size=n).astype(np.int32)


def build(c, mode):
  gin.clear_config()
  gin.parse_config(c["bindings"])
  return getattr(trax.models, c["model"])(mode=mode)


def train_one_step(c, out):
  """trax's Loop saves the checkpoint and config.gin."""
  model = build(c, "train")
  rng = np.random.RandomState(0)
  def batches():
    while True:
      if c["kind"] == "lm":
        x = rng.randint(1, c["vocab"], size=(2, c["seq_len"])).astype(np.int32)
        yield (x, x, np.ones_like(x, dtype=np.float32))
      else:
        e = rng.randint(1, c["vocab"], size=(2, c["input_len"])).astype(np.int32)
        d = rng.randint(1, out_vocab(c), size=(2, c["seq_len"])).astype(np.int32)
        yield (e, d, d, np.ones_like(d, dtype=np.float32))
  loss = tl.WeightedCategoryCrossEntropy()
  if c["kind"] != "lm":  # the model also passes its decoder tokens through: (logits, tok_d, targets, weights)
    loss = tl.Serial(tl.Select([0, 2, 3], n_in=4), loss)
  task = training.TrainTask(batches(), loss, trax.optimizers.SGD(1e-3))
  loop = training.Loop(model, [task], output_dir=out, random_seed=1)
  loop.run(1)
  if c["bias_noise"]:
    noise = np.random.RandomState(5)
    def perturb(layer, inside):
      inside = inside or isinstance(layer, efficient_attention.PureLSHSelfAttentionWrapper)
      if inside and type(layer).__name__ == "Dense" and len(layer.weights) == 2:
        kernel, bias = layer.weights
        layer.weights = (kernel, bias + noise.normal(0.0, 0.5, np.shape(bias)).astype(np.float32))
      for sub in layer.sublayers:
        perturb(sub, inside)
    perturb(loop.model, False)
  loop.save_checkpoint("model")
  loop._save_gin(None)  # pylint: disable=protected-access  (what Loop does at its first log)
  return loop


def log_softmax(x):
  x = x - x.max(-1, keepdims=True)
  return x - np.log(np.exp(x).sum(-1, keepdims=True))


# ---- LSH cases -----------------------------------------------------------------------------------

LSH_CLASSES = (efficient_attention.LSHSelfAttention, efficient_attention.PureLSHSelfAttention)


def lsh_layers(model):
  """[(name, layer)] for the LSHSelfAttention layers of a ConfigurableTerraformer, in model order:
  the encoder's (bidirectional) as encoder.layers.i, the decoder's (causal) as decoder.layers.i."""
  found = []
  def walk(layer):
    if isinstance(layer, LSH_CLASSES):
      found.append(layer)
    for sub in layer.sublayers:
      walk(sub)
  walk(model)
  enc = [l for l in found if not l._causal]  # pylint: disable=protected-access
  dec = [l for l in found if l._causal]  # pylint: disable=protected-access
  return ([("encoder.layers.%d" % i, l) for i, l in enumerate(enc)]
          + [("decoder.layers.%d" % i, l) for i, l in enumerate(dec)])


def lsh_state_keys(layer):
  """The per-(batch, head) hash keys in an LSHSelfAttention layer's state: [B*H, 2] uint32
  (state = (buckets, keys) in train/eval mode, (mem_end, mem, (buckets, buckets_idx, keys)) in
  predict mode; efficient_attention.py init_weights_and_state / create_state_unbatched)."""
  state = layer.state
  if layer._incremental:  # pylint: disable=protected-access
    state = state[2]
  return np.asarray(state[-1])


def lsh_hash_keys(layer):
  """The keys hash_vecs draws its rotations from, one per head (batch slot 0): in predict mode
  (_incremental_forward_unbatched) the state key itself; otherwise (forward_unbatched, e.g. the
  encoder, which runs in eval mode inside tl.Cache) the second half of split(state key)."""
  keys = lsh_state_keys(layer)[:layer._n_heads]  # pylint: disable=protected-access
  if layer._incremental:  # pylint: disable=protected-access
    return keys
  return np.stack([np.asarray(jax.random.split(k)[1]) for k in keys])


def lsh_rotations(layer, keys):
  """[H, d_qk, n_hashes * rot/2]: hash_vecs' random rotations [d_qk, n_hashes, rot/2] (rot: n_buckets,
  or the sum of its factors; efficient_attention.py hash_vecs) for each head, flattened in C order."""
  n_buckets = layer._n_buckets  # pylint: disable=protected-access
  if n_buckets is None:  # derived from each call's length: no one tensor (CaptureRotations checks the keys)
    return None
  rot = n_buckets if isinstance(n_buckets, int) else sum(n_buckets)
  shape = (layer._d_qk, layer._n_hashes, rot // 2)  # pylint: disable=protected-access
  return np.stack([np.asarray(jax.random.normal(k, shape).astype(np.float32)).reshape(shape[0], -1)
                   for k in keys])


class CaptureRotations:
  """While active, records every rotation tensor hash_vecs draws inside the hash_vectors of LSH_CLASSES,
  with the key it was drawn from and the layer's name (through jax.debug.callback, so also inside
  trax's jit and fori_loop): [(name, key, rotations [d, n_hashes, rot/2])]."""

  def __init__(self, names):
    self.names = names  # id(layer) -> name
    self.seen = []

  def __enter__(self):
    rnd = efficient_attention.fastmath.random
    self._originals = [(cls, cls.hash_vectors) for cls in LSH_CLASSES]
    self._normal = rnd.normal
    current = [None]
    def wrap(original):
      def hash_vectors(layer, vecs, rng, mask=None):
        current[0] = self.names[id(layer)]
        try:
          return original(layer, vecs, rng, mask)
        finally:
          current[0] = None
      return hash_vectors
    def normal(rng, shape, *args, **kwargs):
      out = self._normal(rng, shape, *args, **kwargs)
      if current[0] is not None:
        name = current[0]
        jax.debug.callback(lambda k, r: self.seen.append((name, np.asarray(k), np.asarray(r))), rng, out)
      return out
    for cls, original in self._originals:
      cls.hash_vectors = wrap(original)
    rnd.normal = normal  # an instance attribute over RandomBackend.normal
    return self

  def __exit__(self, *exc):
    jax.effects_barrier()
    for cls, original in self._originals:
      cls.hash_vectors = original
    del efficient_attention.fastmath.random.normal


def predict_steps(pred, state, inp, tokens=None, n=None):
  """trax's predict mode as decoding.autoregressive_sample_stream drives it (tl.Accelerate; the
  first call (input, tokens[:, :1]), then one token per call), from `state`. Teacher-forced with
  `tokens`, else greedy from the start id 0 for n steps. Returns the log-probabilities [T, V]
  of each call's last position and the tokens fed."""
  pred.state = state
  fast = tl.Accelerate(pred)
  cur = np.zeros((1, 1), np.int32)
  rows, fed = [], []
  for t in range(len(tokens) if tokens is not None else n):
    if tokens is not None:
      cur = np.asarray(tokens[t:t + 1], np.int32)[None, :]
    fed.append(int(cur[0, 0]))
    logits = fast((inp[None, :], cur))[0]
    logp = np.asarray(tl.log_softmax(logits[:, -1, :]))[0]
    rows.append(logp)
    cur = np.array([[int(np.argmax(logp))]], np.int32)
  return np.stack(rows).astype(np.float32), fed


def named_weights(model):
  """[(path, array)]: the model's weights in trax's flattened order (the order of
  model.weights.npy.gz), each named by its layer path: /index:LayerName/.../leaf."""
  leaf_names = {"LSHSelfAttention": ("w_q", "w_v", "w_o"), "LayerNorm": ("scale", "bias"),
                "Dense": ("kernel", "bias"), "Embedding": ("table",)}  # by class name (gin wraps some classes)
  out = []
  def walk(layer, w, path):
    subs = layer.sublayers
    if subs and isinstance(w, (tuple, list)) and len(w) == len(subs):
      for i, (sub, ws) in enumerate(zip(subs, w)):
        walk(sub, ws, "%s/%d:%s" % (path, i, sub.name))
      return
    leaves = jax.tree_util.tree_leaves(w)
    names = leaf_names.get(type(layer).__name__, ())
    for j, leaf in enumerate(leaves):
      out.append(("%s/%s" % (path, names[j] if len(names) == len(leaves) else str(j)), np.asarray(leaf)))
  walk(model, model.weights, "")
  return out


def lsh_outputs(c, out):
  """From the saved checkpoint, with a predict-mode model (batch 1): predict_tokens.npy,
  predict_logprobs.npy (teacher-forced), greedy.npy (decoding.autoregressive_sample), the hash keys
  and rotations of every LSH layer, checked against what trax's hash_vecs really drew, and the
  flattened weights with their trax layer paths."""
  ckpt = os.path.join(out, "model.pkl.gz")
  inp = sequence(c["vocab"], c["input_len"], 8)
  tok_rng = np.random.RandomState(9)
  tokens = np.concatenate([[0], tok_rng.randint(2, out_vocab(c), size=c["predict_len"] - 1)]).astype(np.int32)
  np.save(os.path.join(out, "input.npy"), inp)
  np.save(os.path.join(out, "predict_tokens.npy"), tokens)

  # The flattened weights, named along the eval-mode model (the checkpoint's structure).
  random.seed(0)
  model = build(c, "eval")
  sig = (shapes.ShapeDtype((1, c["input_len"]), np.int32), shapes.ShapeDtype((1, c["seq_len"]), np.int32))
  model.init_from_file(ckpt, weights_only=True, input_signature=sig)
  named = named_weights(model)
  with gzip.open(ckpt, "rb") as f:
    d = pickle.load(f)
  flat = trax.layers.base.np_from_file(os.path.join(out, "model.weights.npy.gz"), compresslevel=d["flat_weights"])
  assert len(flat) == len(named)
  for (path, w), v in zip(named, flat):
    assert w.shape == np.asarray(v).shape and np.array_equal(w, np.asarray(v)), path
  np.savez(os.path.join(out, "weights_flat.npz"), **{"%03d%s" % (i, p): w for i, (p, w) in enumerate(named)})

  # Predict mode. Layers draw their rng seeds from Python's random at construction: seed it so that
  # the keys (saved below) are the same at every run.
  random.seed(0)
  pred = build(c, "predict")
  sig = (shapes.ShapeDtype((1, c["input_len"]), np.int32), shapes.ShapeDtype((1, 1), np.int32))
  pred.init_from_file(ckpt, weights_only=True, input_signature=sig)
  state0 = pred.state
  layers = lsh_layers(pred)
  keys = {name: lsh_state_keys(l)[:l._n_heads].astype(np.uint32) for name, l in layers}  # pylint: disable=protected-access
  used = {name: lsh_hash_keys(l).astype(np.uint32) for name, l in layers}
  rots = {name: lsh_rotations(l, used[name]) for name, l in layers}
  np.savez(os.path.join(out, "rng_keys.npz"), **keys)
  np.savez(os.path.join(out, "hash_keys.npz"), **used)
  np.savez(os.path.join(out, "rotations.npz"), **{k: v for k, v in rots.items() if v is not None})

  logp, _ = predict_steps(pred, state0, inp, tokens=tokens)
  np.save(os.path.join(out, "predict_logprobs.npy"), logp)

  # Check: run the same steps again while recording every rotation trax's hash_vecs draws; each must
  # be one we saved (same layer, same head's key), every head of every layer must show up (the
  # encoder's once, at the first call; each decoder layer's at every call), and the outputs must
  # not change.
  with CaptureRotations({id(l): name for name, l in layers}) as cap:
    logp2, _ = predict_steps(pred, state0, inp, tokens=tokens)
  assert np.array_equal(logp, logp2)
  counts, shapes_seen = {}, {}
  for name, key, rot in cap.seen:
    heads = [h for h in range(len(used[name])) if np.array_equal(used[name][h], key)]
    assert len(heads) == 1, (name, key)
    h = heads[0]
    if rots[name] is None:  # derived count: the shape says which count this call used
      shapes_seen.setdefault(name, set()).add(rot.shape)
    else:
      assert np.array_equal(rot.reshape(rot.shape[0], -1), rots[name][h]), (name, h)
    counts[(name, h)] = counts.get((name, h), 0) + 1
  for name, l in layers:
    for h in range(l._n_heads):  # pylint: disable=protected-access
      want = len(tokens) if l._incremental else 1  # pylint: disable=protected-access
      assert counts.get((name, h)) == want, (name, h, counts.get((name, h)), want)
  print("rotations verified:", {"%s/h%d" % k: v for k, v in sorted(counts.items())})
  if shapes_seen:
    print("derived rotation shapes [d_qk, n_hashes, rot/2] per layer:", {k: sorted(v) for k, v in shapes_seen.items()})

  # Greedy decoding with trax's own loop, from the same initial state; our loop must agree with it.
  pred.state = state0
  greedy = decoding.autoregressive_sample(pred, inp[None, :], max_length=c["greedy"], temperature=0.0)
  greedy = np.asarray(greedy[0], dtype=np.int32)
  np.save(os.path.join(out, "greedy.npy"), greedy)
  _, fed = predict_steps(pred, state0, inp, n=len(greedy) + 1)
  assert fed[1:] == greedy.tolist(), (fed, greedy)
  pred.state = state0  # the runs started from the keys saved (running moves the encoder's on: eval mode)
  for name, l in layers:
    assert np.array_equal(lsh_state_keys(l)[:l._n_heads], keys[name])  # pylint: disable=protected-access
  print(c["model"], "greedy", greedy.tolist(), "predict_logprobs", logp.shape,
        "rotations", {k: None if v is None else v.shape for k, v in rots.items()})


def main():
  out_root = sys.argv[1]
  names = sys.argv[2:] or list(CASES)
  for name in names:
    c = CASES[name]
    out = os.path.join(out_root, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    train_one_step(c, out)
    for f in os.listdir(out):  # keep the checkpoint and the config only
      if f not in ("model.pkl.gz", "model.weights.npy.gz", "config.gin"):
        p = os.path.join(out, f)
        shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
    if c["lsh"]:
      lsh_outputs(c, out)
      continue
    # Eval mode from the saved checkpoint: every position's log-probabilities.
    seq = sequence(out_vocab(c), c["seq_len"], 7)
    model = build(c, "eval")
    if c["kind"] == "lm":
      sig = shapes.ShapeDtype((1, c["seq_len"]), np.int32)
      model.init_from_file(os.path.join(out, "model.pkl.gz"), weights_only=True, input_signature=sig)
      logits = model(seq[None, :])
    else:
      inp = sequence(c["vocab"], c["input_len"], 8)
      sig = (shapes.ShapeDtype((1, c["input_len"]), np.int32), shapes.ShapeDtype((1, c["seq_len"]), np.int32))
      model.init_from_file(os.path.join(out, "model.pkl.gz"), weights_only=True, input_signature=sig)
      logits = model((inp[None, :], seq[None, :]))
      if isinstance(logits, (list, tuple)):
        logits = logits[0]
      np.save(os.path.join(out, "input.npy"), inp)
    np.save(os.path.join(out, "tokens.npy"), seq)
    # Greedy decoding by eval-mode forward passes over the growing sequence (no predict-mode state);
    # trax's eval mode shifts the tokens right, so output i predicts token i.
    n_greedy = c["greedy"] or 8
    dec = np.zeros((1, c["seq_len"]), np.int32)
    for i in range(n_greedy):
      ev = model(dec) if c["kind"] == "lm" else model((inp[None, :], dec))
      ev = ev[0] if isinstance(ev, (list, tuple)) else ev
      dec[0, i] = np.argmax(np.asarray(ev[0, i]))
    np.save(os.path.join(out, "greedy_eval.npy"), dec[0, :n_greedy])
    np.save(os.path.join(out, "logprobs.npy"), log_softmax(np.asarray(logits[0], dtype=np.float64)).astype(np.float32))
    # Predict mode: greedy decoding from the start token (trax's own decoding loop).
    greedy = [[]]
    pred = build(c, "predict") if c["greedy"] else None
    one = shapes.ShapeDtype((1, 1), np.int32)
    if pred is None:
      pass
    elif c["kind"] == "lm":
      pred.init_from_file(os.path.join(out, "model.pkl.gz"), weights_only=True, input_signature=one)
      greedy = decoding.autoregressive_sample(pred, None, batch_size=1, max_length=c["greedy"], temperature=0.0)
    else:
      sig = (shapes.ShapeDtype((1, c["input_len"]), np.int32), one)
      pred.init_from_file(os.path.join(out, "model.pkl.gz"), weights_only=True, input_signature=sig)
      greedy = decoding.autoregressive_sample(pred, inp[None, :], max_length=c["greedy"], temperature=0.0)
    if pred is not None:
      np.save(os.path.join(out, "greedy.npy"), np.asarray(greedy[0], dtype=np.int32))
    # Older layouts of the same weights.
    with gzip.open(os.path.join(out, "model.pkl.gz"), "rb") as f:
      d = pickle.load(f)
    flat = [np.asarray(w) for w in trax.layers.base.np_from_file(
        os.path.join(out, "model.weights.npy.gz"), compresslevel=d["flat_weights"])]
    for layout in c["layouts"]:
      os.makedirs(os.path.join(out, layout))
      shutil.copy(os.path.join(out, "config.gin"), os.path.join(out, layout, "config.gin"))
      if layout == "bf16":  # Loop's layout with bfloat16 weights: their uint16 bits (training.py _to_bits)
        bits = [np.asarray(jnp.asarray(w, dtype=jnp.bfloat16).view(np.uint16)) for w in flat]
        trax.layers.base.np_to_file(bits, os.path.join(out, layout, "model.weights.npy.gz"), compresslevel=2)
        shutil.copy(os.path.join(out, "model.pkl.gz"), os.path.join(out, layout, "model.pkl.gz"))
        continue
      weights = flat
      stamp = "Jun-18-2020"
      if layout == "old_bf16":  # trainer_lib 'Oct-28-2020': (uint16 array, 'bfloat16') pairs
        weights = [(np.asarray(jnp.asarray(w, dtype=jnp.bfloat16).view(np.uint16)), "bfloat16") for w in flat]
        stamp = "Oct-28-2020"
      old = dict(step=d["step"], flat_weights=weights, flat_state=d["flat_state"],
                 flat_eval_state=d["flat_eval_state"], history=d["history"], slots=[],
                 input_signature=d["input_signature"], version_timestamp=stamp)
      with gzip.open(os.path.join(out, layout, "model.pkl.gz"), "wb", compresslevel=2) as f:
        pickle.dump(old, f)
    print(name, "greedy", np.asarray(greedy[0]).tolist(), "logprobs", np.load(os.path.join(out, "logprobs.npy")).shape)


if __name__ == "__main__":
  main()
