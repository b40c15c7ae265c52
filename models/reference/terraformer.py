"""PyTorch reference of the Terraformer (inference only): decoder-only LM or encoder-decoder.

This is the numerical ground truth for terra. The math is docs/terraformer.md (trax predict
mode: no dropout, controller temperature 0): dense or multiplicative-conv attention, dense or sparse
FF with an optional SRU branch, dense or factored loss layer, optional reversible encoder whose
outputs are prepended to the decoder's sequence. Config fields and tensor names are
docs/checkpoint-format.md. The state_dict keys of `Terraformer` are exactly the checkpoint's tensor
names, so saving and loading are plain dictionary copies.
"""
import json
import math
import os

import numpy as np
import torch
from torch import nn

import lsh_attention

REQUIRED = ('vocab_size', 'd_model', 'd_ff', 'n_heads', 'n_decoder_layers')
DEFAULTS = {
    'n_encoder_layers': 0,
    'n_decoder_attention_layers': 2,
    'decoder_attention_types': ['dense'],
    'encoder_attention_type': 'dense',
    'ff_sparsity': 0,
    'd_lowrank': None,  # resolved to d_ff // ff_sparsity (trax's default for an int ff_sparsity)
    'ff_use_sru': [0, 32],
    'qkv_sparsity': 1,
    'qkv_kernel_size': 3,
    'qkv_length_kernel': 3,
    'loss_sparsity': 0,
    'pos_type': 'fixed-base',
    'pos_bases': [11, 13, 14, 15],
    'pos_n_digits': 8,
    'center_layernorm': True,
    'layernorm_eps': 1e-6,
    'max_len': 2048,
    'reversible_encoder': False,
    # trax's LM architectures and options (docs/trax-import.md)
    'block_type': 'reversible',      # or 'residual': x + F(LN(x)) (TransformerLM, ConfigurableTransformerLM)
    'decoder_output': 'mean',        # or 'concat': LN over [a; b], loss over 2d (ReformerLM)
    'd_attention_key': 0,            # per head, dense attention; 0 = d_model / n_heads
    'd_attention_value': 0,
    'ff_activation': 'relu',         # or 'gelu', 'fast_gelu' (dense FF only; SparseFF is relu)
    'pos_d_feature': 0,              # learned table of this width times a [k, d] matrix
    'use_two_swaps_per_encoder_block': True,
    'output_vocab_size': 0,          # a separate decoder embedding and loss of this size
    # LSH attention (lsh_attention.py): trax LSHSelfAttention's settings
    'lsh_chunk_len': 0, 'lsh_n_buckets': 0, 'lsh_n_hashes': 0, 'lsh_n_chunks_before': 0,
    'lsh_n_chunks_after': 0, 'lsh_predict_mem_len': 0, 'lsh_predict_drop_len': 0,
    'lsh_bias': False,  # biases on qk, v and o (trax PureLSHSelfAttentionWrapper's Dense layers)
    'tokenizer': {'type': 'byte'},
    'name': None, 'source': None, 'license': None,
}
METADATA_FIELDS = ('name', 'source', 'license')


def resolve_config(raw):
    """Fill defaults, validate, and refuse what the reference does not implement yet."""
    unknown = sorted(set(raw) - set(REQUIRED) - set(DEFAULTS))
    missing = [k for k in REQUIRED if k not in raw]
    if unknown or missing:
        raise ValueError(f'config: unknown fields {unknown}, missing fields {missing}')
    cfg = {**DEFAULTS, **raw}
    d, f, N = cfg['d_model'], cfg['d_ff'], cfg['ff_sparsity']
    if d % cfg['n_heads']:
        raise ValueError(f'd_model {d} is not divisible by n_heads {cfg["n_heads"]}')
    if N:
        if f % N:
            raise ValueError(f'd_ff {f} is not divisible by ff_sparsity {N}')
        if cfg['d_lowrank'] is None:
            cfg['d_lowrank'] = f // N
    if cfg['pos_type'] == 'fixed-base' and d % cfg['pos_n_digits']:
        raise ValueError(f'd_model {d} is not divisible by pos_n_digits {cfg["pos_n_digits"]}')
    if cfg['pos_type'] not in ('fixed-base', 'learned', 'none'):
        raise ValueError(f'unknown pos_type {cfg["pos_type"]!r}')
    types = cfg['decoder_attention_types']
    if not types or any(t not in ('dense', 'mult_conv', 'lsh') for t in types):
        raise ValueError(f'decoder_attention_types {types}: entries must be dense, mult_conv or lsh')
    if cfg['encoder_attention_type'] not in ('dense', 'lsh'):
        raise NotImplementedError(f'encoder_attention_type {cfg["encoder_attention_type"]!r}')
    if 'lsh' in types or (cfg['n_encoder_layers'] and cfg['encoder_attention_type'] == 'lsh'):
        check_lsh(cfg)
    if cfg['n_decoder_attention_layers'] not in (1, 2):
        raise ValueError(f'n_decoder_attention_layers {cfg["n_decoder_attention_layers"]} is not 1 or 2')
    if cfg['n_encoder_layers'] < 0:
        raise ValueError(f'n_encoder_layers {cfg["n_encoder_layers"]} < 0')
    S, kq, lk = cfg['qkv_sparsity'], cfg['qkv_kernel_size'], cfg['qkv_length_kernel']
    if 'mult_conv' in types:
        if S < 1 or d % S:
            raise ValueError(f'd_model {d} is not divisible by qkv_sparsity {S}')
        if kq < 1 or kq % 2 == 0 or lk < 1:  # trax LocallyConvDense: only odd module kernels
            raise ValueError(f'qkv_kernel_size {kq} must be odd and qkv_length_kernel {lk} >= 1')
    Sl, V = cfg['loss_sparsity'], cfg['output_vocab_size'] or cfg['vocab_size']
    if Sl < 0 or (Sl and V % Sl):
        raise ValueError(f'the output vocabulary {V} is not divisible by loss_sparsity {Sl}')
    if cfg['block_type'] not in ('reversible', 'residual') or cfg['decoder_output'] not in ('mean', 'concat'):
        raise ValueError(f'block_type {cfg["block_type"]!r} / decoder_output {cfg["decoder_output"]!r}')
    if cfg['block_type'] == 'residual' and (cfg['n_encoder_layers'] or cfg['decoder_output'] != 'mean'):
        raise ValueError('residual blocks are decoder-only with a plain output')
    if cfg['ff_activation'] not in ('relu', 'gelu', 'fast_gelu'):
        raise ValueError(f'ff_activation {cfg["ff_activation"]!r}')
    if cfg['pos_d_feature'] and cfg['pos_type'] != 'learned':
        raise ValueError('pos_d_feature needs pos_type learned')
    tok = cfg['tokenizer']
    if not isinstance(tok, dict) or tok.get('type') not in ('byte', 'sentencepiece'):
        raise ValueError(f'tokenizer {tok!r}: type must be byte or sentencepiece')
    if tok['type'] == 'sentencepiece':
        allowed = {'type', 'model', 'start_id', 'end_id'}
        if set(tok) - allowed or not isinstance(tok.get('model'), str) or \
                not all(isinstance(tok.get(k), int) and 0 <= tok[k] < V for k in ('start_id', 'end_id')):
            raise ValueError(f'tokenizer {tok!r}: sentencepiece needs "model" (file name beside '
                             f'config.json), "start_id" and "end_id" (ids < vocab_size)')
    sru = cfg['ff_use_sru']
    if len(sru) != 2 or sru[0] < 0 or (sru[0] and sru[1] < 1):
        raise ValueError(f'ff_use_sru {sru} must be [layers >= 0, width >= 1]')
    return cfg


def lsh_factors(n_buckets):
    """trax's n_buckets, an int or a list of factors (hash_vecs) -> the list of factors."""
    return list(n_buckets) if isinstance(n_buckets, (list, tuple)) else [n_buckets]


def check_lsh(cfg):
    C, nb, nh = cfg['lsh_chunk_len'], cfg['lsh_n_buckets'], cfg['lsh_n_hashes']
    mem, drop = cfg['lsh_predict_mem_len'], cfg['lsh_predict_drop_len']
    if (C < 1 or nh < 1 or not lsh_factors(nb) or any(f < 2 or f % 2 for f in lsh_factors(nb))
            or cfg['lsh_n_chunks_before'] < 0 or cfg['lsh_n_chunks_after'] < 0):
        raise ValueError(f'lsh: chunk_len {C}, n_hashes {nh} >= 1, n_buckets {nb} even >= 2 (or a list of such '
                         'factors), chunks before/after >= 0')
    if 'lsh' in cfg['decoder_attention_types'] and (mem < 2 or not 0 < drop <= mem):
        raise ValueError(f'lsh decoder: predict_mem_len {mem} >= 2, 0 < predict_drop_len {drop} <= predict_mem_len')


def _param(*shape):
    # Values come from random_init or a checkpoint; float64 until the model is cast.
    return nn.Parameter(torch.zeros(*shape, dtype=torch.float64))


class LayerNorm(nn.Module):
    """trax LayerNorm; center=False is the RMS variant (no mean subtraction, no bias tensor)."""

    def __init__(self, d, center, eps):
        super().__init__()
        self.center, self.eps = center, eps
        self.scale = _param(d)
        self.register_parameter('bias', _param(d) if center else None)

    def forward(self, x):
        if self.center:
            x = x - x.mean(-1, keepdim=True)
        x = x / torch.sqrt((x * x).mean(-1, keepdim=True) + self.eps) * self.scale
        return x + self.bias if self.center else x


class Dense(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.kernel = _param(d_in, d_out)  # [in, out]: y = x @ W + b
        self.bias = _param(d_out)

    def forward(self, x):
        return x @ self.kernel + self.bias


class FactoredDense(nn.Module):
    """trax FactoredDense(S, d_in, d_out), M = d_out / S:
    y[s*M + m] = sum_k x[k] * gating[s, k] * projection[k, m] + bias[s*M + m]."""

    def __init__(self, n_modules, d_in, d_out):
        super().__init__()
        self.gating = _param(n_modules, d_in)
        self.projection = _param(d_in, d_out // n_modules)
        self.bias = _param(d_out)

    def forward(self, x):
        lead, x = x.shape[:-1], x.reshape(-1, x.shape[-1])  # any leading (batch) axes
        u = torch.einsum('tk,sk,km->tsm', x, self.gating, self.projection)  # [T, S, M]
        return (u.reshape(x.shape[0], -1) + self.bias).reshape(*lead, -1)


def attend(q, k, v, n_heads, causal):
    """Multi-head dot-product attention on [..., T, H*dk] queries and keys and [..., T, H*dv]
    values; head h owns features [h*dk, (h+1)*dk) (and of the values [h*dv, (h+1)*dv))."""
    *lead, T, _ = q.shape
    H = n_heads
    dk, dv = q.shape[-1] // H, v.shape[-1] // H
    q, k = (x.reshape(*lead, T, H, dk).transpose(-3, -2) for x in (q, k))
    v = v.reshape(*lead, T, H, dv).transpose(-3, -2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(dk)  # [..., H, T, T]
    if causal:
        future = torch.ones(T, T, dtype=torch.bool).triu(1)
        scores = scores.masked_fill(future, float('-inf'))
    weights = torch.softmax(scores, dim=-1)
    return (weights @ v).transpose(-3, -2).reshape(*lead, T, H * dv)


class DenseAttention(nn.Module):
    """The F of one attention half-residual: LayerNorm, then trax CausalAttention (decoder) or
    Attention without a mask (encoder: no padding, every position sees every position)."""

    def __init__(self, cfg, causal=True):
        super().__init__()
        d, H = cfg['d_model'], cfg['n_heads']
        hk, hv = H * (cfg['d_attention_key'] or d // H), H * (cfg['d_attention_value'] or d // H)
        self.n_heads, self.causal = H, causal
        self.norm = LayerNorm(d, cfg['center_layernorm'], cfg['layernorm_eps'])
        self.q, self.k, self.v, self.o = Dense(d, hk), Dense(d, hk), Dense(d, hv), Dense(hv, d)

    def forward(self, x):
        x = self.norm(x)
        return self.o(attend(self.q(x), self.k(x), self.v(x), self.n_heads, self.causal))


class LSHAttention(nn.Module):
    """The F of an LSH attention half-residual: LayerNorm, then trax LSHSelfAttention
    (lsh_attention.py): shared query/key qk, values v, output o, no biases (with lsh_bias, biases:
    trax PureLSHSelfAttentionWrapper, whose q and k Dense layers average into qk); per head, fixed random
    rotations [dk, n_hashes * rot / 2] (rot: n_buckets, or the sum of its factors when trax's
    n_buckets is a list; trax draws them from the head's state key; a model
    file stores them). The encoder's (causal False) sees the whole input, with d_qk = d_v =
    d_model / n_heads and n_chunks_after as configured; the decoder's runs trax's predict mode, with
    n_chunks_after 0: its first call takes rows [0, first_call) (set by Decoder.forward)."""

    def __init__(self, cfg, causal):
        super().__init__()
        d, H = cfg['d_model'], cfg['n_heads']
        dk = (cfg['d_attention_key'] or d // H) if causal else d // H
        dv = (cfg['d_attention_value'] or d // H) if causal else d // H
        self.n_heads, self.causal, self.first_call = H, causal, 1
        self.lsh = {k: cfg['lsh_' + k] for k in ('chunk_len', 'n_buckets', 'n_hashes', 'n_chunks_before',
                                                  'n_chunks_after', 'predict_mem_len', 'predict_drop_len')}
        if causal:
            self.lsh['n_chunks_after'] = 0
        self.lsh['factors'] = lsh_factors(self.lsh['n_buckets'])
        self.lsh['n_buckets'] = math.prod(self.lsh['factors'])
        self.norm = LayerNorm(d, cfg['center_layernorm'], cfg['layernorm_eps'])
        proj = Dense if cfg['lsh_bias'] else Matrix
        self.qk, self.v, self.o = proj(d, H * dk), proj(d, H * dv), proj(H * dv, d)
        self.rotations = _param(H, dk, self.lsh['n_hashes'] * sum(self.lsh['factors']) // 2)

    # True: both the encoder's and the decoder's layers run the vectorized full pass (training:
    # the decoder causal over the whole sequence, as trax's train mode); False: trax's inference.
    training_pass = False

    def forward(self, x):
        x = self.norm(x)
        qk, v = self.qk(x), self.v(x)
        H = self.n_heads
        dk, dv = qk.shape[-1] // H, v.shape[-1] // H
        if LSHAttention.training_pass:
            # Examples of a batch [B, n, d] (all of length n) go through train_pass as B * H heads.
            n, B = x.shape[-2], x.shape[0] if x.dim() == 3 else 1
            L = lsh_attention.encoder_length(n, self.lsh)
            pad = lambda y: torch.cat([y, y.new_zeros(*y.shape[:-2], L - n, y.shape[-1])], -2) \
                .reshape(B, L, H, -1).transpose(0, 1).reshape(L, B * H, -1)
            out = lsh_attention.train_pass(pad(qk), pad(v), self.rotations.repeat(B, 1, 1), self.lsh, self.causal, n)
            return self.o(out.reshape(n, B, H * dv).transpose(0, 1).reshape(*x.shape[:-1], H * dv))
        heads = []
        for h in range(H):
            args = (qk[:, h * dk:(h + 1) * dk], v[:, h * dv:(h + 1) * dv], self.rotations[h], self.lsh)
            heads.append(lsh_attention.decoder_head(*args, self.first_call) if self.causal
                         else lsh_attention.encoder_head(*args))
        return self.o(torch.cat(heads, -1))


class LocallyConvDense(nn.Module):
    """trax LocallyConvDense(S, M, kernel_size=kw, length_kernel_size=lk) for S > 1.

    The features of u [T, S*M] are a grid u[t, s, :] (time t, module s, M channels); one kernel
    [lk, kw, M, M] (trax Conv, HWIO) is shared by all modules, with zero padding of (kw-1)/2 modules
    on each side and lk-1 zero rows before the first position (causal in time):
    out[t, s, o] = bias[o] + sum_{dt<lk} sum_{ds<kw} sum_i kernel[dt, ds, i, o] * u[t-(lk-1)+dt, s-(kw-1)/2+ds, i].
    """

    def __init__(self, n_modules, d_module, kernel_size, length_kernel_size):
        super().__init__()
        self.n_modules = n_modules
        self.kernel = _param(length_kernel_size, kernel_size, d_module, d_module)
        self.bias = _param(d_module)

    def forward(self, u):
        *lead, T, _ = u.shape  # any leading (batch) axes
        S = self.n_modules
        lk, kw, M, _ = self.kernel.shape
        half = (kw - 1) // 2
        if not lead:
            padded = torch.zeros(T + lk - 1, S + 2 * half, M, dtype=u.dtype)
            padded[lk - 1:, half:half + S] = u.reshape(T, S, M)  # padded[lk-1+t, half+s] = u[t, s]
        else:  # batched (training): the same sum as one conv2d on the [M, T, S] grid per sequence
            grid = u.reshape(-1, T, S, M).permute(0, 3, 1, 2)  # [batch, M, T, S]
            grid = nn.functional.pad(grid, (half, half, lk - 1, 0))  # modules both sides, time before
            out = nn.functional.conv2d(grid, self.kernel.permute(3, 2, 0, 1), self.bias)
            return out.permute(0, 2, 3, 1).reshape(*lead, T, S * M)
        out = self.bias.expand(T, S, M)
        for dt in range(lk):
            for ds in range(kw):
                # row t of this window is u[t-(lk-1)+dt], column s is module s-half+ds
                out = out + padded[dt:dt + T, ds:ds + S] @ self.kernel[dt, ds]
        return out.reshape(T, S * M)


class MultConvAttention(nn.Module):
    """trax MultiplicativeConvCausalAttention (share_qk False, v_concat_type 'none',
    output_layer_type 'none'): LayerNorm; u = FactoredDense(S, d, d); Q, K = LocallyConvDense
    (module kernel qkv_kernel_size), V = LocallyConvDense (module kernel 1), all with time kernel
    qkv_length_kernel; causal attention; no output projection. With S = 1 trax's LocallyConvDense
    is a plain Dense(d) for each of Q, K, V (no convolution)."""

    def __init__(self, cfg):
        super().__init__()
        d, S = cfg['d_model'], cfg['qkv_sparsity']
        self.n_heads = cfg['n_heads']
        self.norm = LayerNorm(d, cfg['center_layernorm'], cfg['layernorm_eps'])
        self.mult = FactoredDense(S, d, d)
        if S == 1:
            self.q, self.k, self.v = (Dense(d, d) for _ in range(3))
            self.qkv = (self.q, self.k, self.v)
        else:
            M, kq, lk = d // S, cfg['qkv_kernel_size'], cfg['qkv_length_kernel']
            self.conv_q = LocallyConvDense(S, M, kq, lk)
            self.conv_k = LocallyConvDense(S, M, kq, lk)
            self.conv_v = LocallyConvDense(S, M, 1, lk)
            self.qkv = (self.conv_q, self.conv_k, self.conv_v)

    def forward(self, x):
        u = self.mult(self.norm(x))
        q, k, v = (layer(u) for layer in self.qkv)
        return attend(q, k, v, self.n_heads, causal=True)


def sru_recurrence(f, z):
    """c_t = f_t * c_{t-1} + z_t over the rows (time) of f, z [T, n], with c_{-1} = 0."""
    c, rows = torch.zeros_like(z[0]), []
    for t in range(z.shape[0]):
        c = f[t] * c + z[t]
        rows.append(c)
    return torch.stack(rows)


def sru_cell(dense, x):
    """trax SRU(n) (rnn.py) on x [T, n]: [r, f, y] = split(Dense(3n)(x)), r, f = sigmoid,
    c_t = f_t c_{t-1} + (1 - f_t) y_t, h_t = c_t r_t + x_t (1 - r_t) sqrt(3)."""
    r, f, y = dense(x).chunk(3, dim=-1)
    r, f = torch.sigmoid(r), torch.sigmoid(f)
    c = sru_recurrence(f, y * (1 - f))
    return c * r + x * (1 - r) * math.sqrt(3)


class SRUBranch(nn.Module):
    """The FF's SRU branch (configurable_transformer.py FeedForwardWithOptions with ff_use_sru):
    LayerNorm, Dense(d -> n), ff_use_sru[0] SRU cells, Dense(n -> d)."""

    def __init__(self, cfg):
        super().__init__()
        d, (n_layers, n) = cfg['d_model'], cfg['ff_use_sru']
        self.norm = LayerNorm(d, cfg['center_layernorm'], cfg['layernorm_eps'])
        self.add_module('in', Dense(d, n))  # `in` is a Python keyword: reach it with getattr
        self.cells = nn.ModuleList(Dense(n, 3 * n) for _ in range(n_layers))
        self.out = Dense(n, d)

    def forward(self, x):
        h = getattr(self, 'in')(self.norm(x))
        for cell in self.cells:
            h = sru_cell(cell, h)
        return self.out(h)


def _sru_or_none(cfg):
    return SRUBranch(cfg) if cfg['ff_use_sru'][0] else None


ACTIVATIONS = {
    'relu': torch.relu,
    'gelu': lambda x: 0.5 * x * (1 + torch.erf(x / math.sqrt(2.0))),  # trax Gelu
    'fast_gelu': lambda x: 0.5 * x * (1 + torch.tanh(x * 0.7978845608 * (1 + 0.044715 * x * x))),  # trax FastGelu
}


class DenseFF(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, f = cfg['d_model'], cfg['d_ff']
        self.norm = LayerNorm(d, cfg['center_layernorm'], cfg['layernorm_eps'])
        self.w1, self.w2 = Dense(d, f), Dense(f, d)
        self.act = ACTIVATIONS[cfg['ff_activation']]
        self.sru = _sru_or_none(cfg)

    def forward(self, x):
        out = self.w2(self.act(self.w1(self.norm(x))))
        return (out if self.sru is None else out + self.sru(x)), None


class SparseFF(nn.Module):
    """trax SparseFF in predict mode: one active unit out of N in each of the B = d_ff/N blocks.

    Unit (block i, element j) uses w1[:, i, j] and w2[j, i, :]: trax stores w1 as a [d, f] matrix
    reshaped to [d, B, N] (column i*N+j) and w2 as an [f, d] matrix reshaped to [N, B, d] (row j*B+i).
    A trainer adds its Gumbel / straight-through mask on top of `controller`: it sets `train_mask`
    ('soft' or 'hard', see forward_train) before each step; None (the default) is predict mode.
    """

    train_mask = None  # None: predict; 'soft' / 'hard': trax's training branch; 'argmax': batched predict
    temperature = 0.1  # Gumbel noise scale of the hard mask (trax SparseFF temperature)
    generator = None   # torch.Generator for the Gumbel noise (None: torch's global generator)

    def __init__(self, cfg):
        super().__init__()
        d, f, N, r = cfg['d_model'], cfg['d_ff'], cfg['ff_sparsity'], cfg['d_lowrank']
        self.n_blocks, self.n_units = f // N, N
        B = self.n_blocks
        self.norm = LayerNorm(d, cfg['center_layernorm'], cfg['layernorm_eps'])
        self.m1, self.m2, self.mb = _param(d, r), _param(r, B, N), _param(B, N)
        self.w1, self.w2, self.b2 = _param(d, B, N), _param(N, B, d), _param(d)
        self.sru = _sru_or_none(cfg)

    def controller(self, y):
        """Low-rank controller logits [T, B, N] (no bias or activation after m1)."""
        r = self.m1.shape[1]
        flat = (y @ self.m1) @ self.m2.reshape(r, self.n_blocks * self.n_units)
        return flat.view(-1, self.n_blocks, self.n_units) + self.mb

    def forward_train(self, x, y):
        """trax _SparseFFController + _SparseFFMain in train mode on y = LN(x) [..., T, d]:
        mask = softmax(logits); 'hard': one_hot(argmax(log_softmax(logits) + temperature * Gumbel))
        with a straight-through gradient (one_hot + mask - mask.detach()); 'soft': mask itself.
        The full FF is computed: mid = relu((y @ w1.reshape(d, f)) * mask.reshape(f));
        out = mid @ W2 + b2 with W2[i*N+j] = w2[j, i]. Returns (out, units [..., T, B])."""
        lead, d = y.shape[:-1], y.shape[-1]
        B, N = self.n_blocks, self.n_units
        logits = self.controller(y.reshape(-1, d)).reshape(*lead, B, N)
        log_mask = torch.log_softmax(logits, dim=-1)
        mask = log_mask.exp()
        if self.train_mask == 'hard':
            u = torch.rand(mask.shape, generator=self.generator, dtype=mask.dtype) * (1 - 2e-6) + 1e-6
            units = (log_mask.detach() - self.temperature * torch.log(-torch.log(u))).argmax(-1)
            one_hot = nn.functional.one_hot(units, N).to(mask.dtype)
            mask = one_hot + mask - mask.detach()
        elif self.train_mask == 'soft':
            units = logits.detach().argmax(-1)
        elif self.train_mask == 'argmax':  # batched evaluation: the predict-mode math, no noise
            units = logits.argmax(-1)
            mask = nn.functional.one_hot(units, N).to(mask.dtype)
        else:
            raise ValueError(f'train_mask {self.train_mask!r} is not soft, hard or argmax')
        mid = torch.relu((y @ self.w1.reshape(d, B * N)) * mask.reshape(*lead, B * N))
        out = mid @ self.w2.permute(1, 0, 2).reshape(B * N, d) + self.b2
        return (out if self.sru is None else out + self.sru(x)), units

    def forward(self, x):
        y = self.norm(x)
        if self.train_mask is not None:
            return self.forward_train(x, y)
        units = self.controller(y).argmax(-1)  # [T, B]; the first maximum wins, as jnp.argmax
        blocks = torch.arange(self.n_blocks)
        w_in = self.w1.permute(1, 2, 0)[blocks, units]   # [T, B, d]: w1[:, i, j_i]
        w_out = self.w2.permute(1, 0, 2)[blocks, units]  # [T, B, d]: w2[j_i, i, :]
        h = torch.relu(torch.einsum('td,tbd->tb', y, w_in))  # one scalar per block, not softmax-scaled
        out = self.b2 + torch.einsum('tb,tbd->td', h, w_out)
        return (out if self.sru is None else out + self.sru(x)), units


def make_ff(cfg):
    return SparseFF(cfg) if cfg['ff_sparsity'] else DenseFF(cfg)


class FixedBasePositions(nn.Module):
    """trax FixedBasePositionalEncoding in eval/predict mode, positions counted from 0."""

    def __init__(self, cfg):
        super().__init__()
        d, self.n_digits, self.bases = cfg['d_model'], cfg['pos_n_digits'], cfg['pos_bases']
        self.base_weights = _param(len(self.bases), self.n_digits, d // self.n_digits)
        self.start_vec = _param(d)

    def forward(self, T):
        if T >= min(self.bases) ** self.n_digits:
            raise ValueError(f'sequence length {T} exceeds the fixed-base range')
        p = torch.arange(T)
        enc = sum(
            torch.cat([((p // base ** i) % base).to(self.base_weights.dtype)[:, None]
                       * self.base_weights[j, i] for i in range(self.n_digits)], dim=-1)
            for j, base in enumerate(self.bases))
        return torch.cat([enc[:1] + self.start_vec, enc[1:]])  # start_vec marks position 0 only


class Matrix(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.kernel = _param(d_in, d_out)

    def forward(self, x):
        return x @ self.kernel


class LearnedPositions(nn.Module):
    """A learned table [max_len, d]; with pos_d_feature k (trax PositionalEncoding(d_feature=k)),
    a table [max_len, k] times a matrix [k, d] (trax's eval mode)."""

    def __init__(self, cfg):
        super().__init__()
        k = cfg['pos_d_feature']
        self.table = _param(cfg['max_len'], k or cfg['d_model'])
        self.dense = Matrix(k, cfg['d_model']) if k else None

    def forward(self, T):
        if T > self.table.shape[0]:
            raise ValueError(f'sequence length {T} exceeds max_len {self.table.shape[0]}')
        return self.table[:T] if self.dense is None else self.table[:T] @ self.dense.kernel


def make_positions(cfg):
    """Separate modules (and tensors) for the encoder and the decoder; None for pos_type none."""
    kind = cfg['pos_type']
    return None if kind == 'none' else \
        {'fixed-base': FixedBasePositions, 'learned': LearnedPositions}[kind](cfg)


class Block(nn.Module):
    """Reversible block: attention half-residuals, then the FF half-residual. Each half-residual is
    a <- a + F(b), then the streams swap (trax ReversibleHalfResidual adds F(stack[1:]) to stack[0],
    then ReversibleSwap)."""

    def forward(self, a, b):
        for attn in self.attn:
            a, b = b, a + attn(b)
        out, units = self.ff(b)
        return b, a + out, units


class ResidualBlock(nn.Module):
    """Pre-LayerNorm residual block (trax TransformerLM, ConfigurableTransformerLM): x += F(LN(x))
    for each attention layer, then for the FF. One stream: returned as both."""

    def forward(self, a, b):
        x = a
        for attn in self.attn:
            x = x + attn(x)
        out, units = self.ff(x)
        x = x + out
        return x, x, units


class DecoderLayer(nn.Module):
    def forward(self, a, b):
        return (ResidualBlock.forward if self.residual else Block.forward)(self, a, b)

    def __init__(self, cfg, index):
        super().__init__()
        self.residual = cfg['block_type'] == 'residual'
        types = cfg['decoder_attention_types']
        kind = types[index % len(types)]
        make = {'dense': DenseAttention, 'mult_conv': MultConvAttention,
                'lsh': lambda c: LSHAttention(c, causal=True)}[kind]
        self.attn = nn.ModuleList(make(cfg) for _ in range(cfg['n_decoder_attention_layers']))
        self.ff = make_ff(cfg)


class EncoderLayer(Block):
    """trax reformer.EncoderBlock: one non-causal attention half-residual (k = 0), swap, FF
    half-residual, swap; with use_two_swaps_per_block False the last swap is left out."""

    def __init__(self, cfg):
        super().__init__()
        lsh = cfg['encoder_attention_type'] == 'lsh'
        self.attn = nn.ModuleList([LSHAttention(cfg, causal=False) if lsh else DenseAttention(cfg, causal=False)])
        self.ff = make_ff(cfg)
        self.two_swaps = cfg['use_two_swaps_per_encoder_block']

    def forward(self, a, b):
        if self.two_swaps:
            return Block.forward(self, a, b)
        for attn in self.attn:
            a, b = b, a + attn(b)
        out, units = self.ff(b)
        return a + out, b, units


def _run_blocks(layers, a, b):
    units = {}
    for L, layer in enumerate(layers):
        a, b, u = layer(a, b)
        if u is not None:
            units[L] = u
    return a, b, units


class Encoder(nn.Module):
    """Embedded input tokens -> the two streams the decoder's sequence starts with."""

    def __init__(self, cfg):
        super().__init__()
        d = cfg['d_model']
        self.reversible = cfg['reversible_encoder']
        self.pos = make_positions(cfg)
        self.layers = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg['n_encoder_layers']))
        if not self.reversible:
            self.out_dense = Dense(d, d)
            self.out_norm = LayerNorm(d, True, cfg['layernorm_eps'])  # always centered

    def forward(self, x):
        if self.pos is not None:
            x = x + self.pos(x.shape[-2])
        a, b, units = _run_blocks(self.layers, x, x)
        if self.reversible:
            return (a, b), units  # terraformer.py _enc_dec_concat: ConcatWithPadding2 on the pair
        enc = self.out_norm(self.out_dense((a + b) / 2))
        return (enc, enc), units  # ConcatWithPadding, then ReversibleSelect([0, 0])


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg['output_vocab_size']:  # trax's separate output embedding
            self.embedding = _param(cfg['output_vocab_size'], cfg['d_model'])
        self.pos = make_positions(cfg)
        self.layers = nn.ModuleList(DecoderLayer(cfg, L) for L in range(cfg['n_decoder_layers']))
        self.concat = cfg['decoder_output'] == 'concat'
        width = 2 * cfg['d_model'] if self.concat else cfg['d_model']
        self.out_norm = LayerNorm(width, True, cfg['layernorm_eps'])  # always centered

    def forward(self, x, prefix=None):
        """x: embedded decoder tokens [T, d] (positions counted from 0 at the start token);
        prefix: the encoder's two streams [Ti, d] placed before them. Returns [Ti+T, d]."""
        if self.pos is not None:
            x = x + self.pos(x.shape[-2])  # tokens [..., T]: any leading (batch) axes
        a = b = x
        if prefix is not None:
            a, b = torch.cat([prefix[0], x], -2), torch.cat([prefix[1], x], -2)
        # trax predict mode: the first call holds the encoder's rows and the start token, then one
        # token per call (what LSH attention's memory depends on; other layers are causal anyway).
        for m in self.modules():
            if isinstance(m, LSHAttention):
                m.first_call = (0 if prefix is None else prefix[0].shape[-2]) + 1
        a, b, units = _run_blocks(self.layers, a, b)
        return self.out_norm(torch.cat([a, b], -1) if self.concat else (a + b) / 2), units


class Terraformer(nn.Module):
    """forward(tokens [T], input_tokens [Ti] for an encoder-decoder) ->
    (logits [T, V], {decoder layer: units [Ti+T, B]}). Training also takes a batch: tokens [B, T],
    input_tokens [B, Ti]."""

    def __init__(self, config):
        super().__init__()
        self.config = dict(config)  # as given: written back verbatim by save_checkpoint
        cfg = self.cfg = resolve_config(config)
        d, V, Sl = cfg['d_model'], cfg['vocab_size'], cfg['loss_sparsity']
        Vo = cfg['output_vocab_size'] or V
        self.embedding = _param(V, d)  # no scaling; shared by encoder and decoder (unless output_vocab_size)
        self.encoder = Encoder(cfg) if cfg['n_encoder_layers'] else None
        self.decoder = Decoder(cfg)
        width = 2 * d if cfg['decoder_output'] == 'concat' else d
        self.loss = FactoredDense(Sl, width, Vo) if Sl else Dense(width, Vo)

    def encode(self, input_tokens):
        """-> ((first, second) streams [Ti, d], {encoder layer: units [Ti, B]})."""
        return self.encoder(self.embedding[input_tokens])

    def forward(self, tokens, input_tokens=None):
        if (self.encoder is None) != (input_tokens is None):
            raise ValueError('input_tokens are required by an encoder-decoder model, and only by one')
        prefix, n_in = None, 0
        if self.encoder is not None:
            n_in = input_tokens.shape[-1]  # [Ti], or [B, Ti] (a batch of equal lengths)
            if n_in == 0:
                raise ValueError('an encoder-decoder model needs at least one input token')
            prefix, _ = self.encode(input_tokens)
        embedding = self.decoder.embedding if self.cfg['output_vocab_size'] else self.embedding
        out, units = self.decoder(embedding[tokens], prefix)
        return self.loss(out[..., n_in:, :]), units  # loss only at the decoder positions

    def set_ff_train_mask(self, mask, generator=None):
        """Switch every sparse FF to trax's training branch ('soft' / 'hard') or back (None)."""
        for module in self.modules():
            if isinstance(module, SparseFF):
                module.train_mask, module.generator = mask, generator


def random_init(config, seed=0, dtype=torch.float64):
    """Random weights keeping activations O(1). Values are rounded to float32 so that the F32
    checkpoint holds exactly the weights the float64 ground truth uses; independent of dtype."""
    model = Terraformer(config)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit('.', 1)[-1]
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float64)
            if name in ('embedding', 'decoder.embedding'):
                value = noise
            elif leaf == 'base_weights':
                value = torch.rand(p.shape, generator=gen, dtype=torch.float64) * 0.1 - 0.05
            elif leaf == 'rotations':
                value = noise  # trax: jax.random.normal
            elif leaf in ('start_vec', 'table'):
                value = 0.5 * noise
            elif leaf == 'scale':
                value = 1 + 0.1 * noise
            elif leaf in ('bias', 'b2', 'mb'):
                value = 0.1 * noise
            elif leaf == 'gating':
                value = 0.5 * noise  # trax FactoredDense: RandomNormalInitializer(stddev=0.5)
            elif leaf == 'kernel' and p.dim() == 4:
                value = noise / math.sqrt(p.shape[0] * p.shape[1] * p.shape[2])  # conv: lk * kw * M
            elif leaf in ('kernel', 'projection', 'm1', 'm2', 'w1'):
                value = noise / math.sqrt(p.shape[0])  # fan_in is the first axis
            elif leaf == 'w2':
                value = noise / math.sqrt(p.shape[1])  # sums over the B active units
            else:
                raise AssertionError(f'no init rule for {name}')
            p.copy_(value.float())
    return model.to(dtype)


# --- safetensors, by hand: u64 LE header length, JSON header, raw little-endian bytes ---

_NP_DTYPES = {'F64': '<f8', 'F32': '<f4', 'F16': '<f2', 'I64': '<i8', 'I32': '<i4'}


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: np.ndarray of a type in _NP_DTYPES}; written in name order."""
    codes = {np.dtype(v): k for k, v in _NP_DTYPES.items()}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        code = codes[arr.dtype.newbyteorder('<')]
        data = arr.astype(_NP_DTYPES[code]).tobytes()
        header[name] = {'dtype': code, 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header['__metadata__'] = metadata
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)  # the data then starts at an 8-aligned offset (8 + len)
    with open(path, 'wb') as fh:
        fh.write(len(text).to_bytes(8, 'little') + text + b''.join(blobs))


def read_safetensors(path):
    """Returns ({name: np.ndarray}, metadata); BF16 is widened to float32."""
    with open(path, 'rb') as fh:
        raw = fh.read()
    n = int.from_bytes(raw[:8], 'little')
    header = json.loads(raw[8:8 + n])
    metadata = header.pop('__metadata__', {})
    tensors = {}
    for name, info in header.items():
        begin, end = info['data_offsets']
        buf = raw[8 + n + begin:8 + n + end]
        if info['dtype'] == 'BF16':
            arr = (np.frombuffer(buf, '<u2').astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(buf, _NP_DTYPES[info['dtype']])
        tensors[name] = arr.reshape(info['shape'])
    return tensors, metadata


def save_checkpoint(model, folder):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'config.json'), 'w') as fh:
        json.dump(model.config, fh, indent=2)
        fh.write('\n')
    tensors = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    metadata = {k: model.cfg[k] for k in METADATA_FIELDS if model.cfg[k] is not None}
    write_safetensors(os.path.join(folder, 'model.safetensors'), tensors, metadata)


def load_checkpoint(folder, dtype=torch.float64):
    """Strict, like terra-convert: a missing, unexpected or wrongly shaped tensor is an error."""
    with open(os.path.join(folder, 'config.json')) as fh:
        model = Terraformer(json.load(fh)).to(dtype)
    tensors, _ = read_safetensors(os.path.join(folder, 'model.safetensors'))
    expected = model.state_dict()
    for name in sorted(set(expected) | set(tensors)):
        want = list(expected[name].shape) if name in expected else None
        got = list(tensors[name].shape) if name in tensors else None
        if want != got:
            raise ValueError(f'tensor {name}: expected shape {want}, checkpoint has {got}')
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float64)) for k, v in tensors.items()})
    return model
