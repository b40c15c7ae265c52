"""PyTorch reference of the Terraformer (inference only): decoder-only LM or encoder-decoder.

This is the numerical ground truth for terra. The math is shared/terraformer.md §1-§4 (trax predict
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
    if 'lsh' in types:
        raise NotImplementedError('lsh attention')
    if cfg['encoder_attention_type'] != 'dense':
        raise NotImplementedError(f'encoder_attention_type {cfg["encoder_attention_type"]!r}')
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
    Sl, V = cfg['loss_sparsity'], cfg['vocab_size']
    if Sl < 0 or (Sl and V % Sl):
        raise ValueError(f'vocab_size {V} is not divisible by loss_sparsity {Sl}')
    sru = cfg['ff_use_sru']
    if len(sru) != 2 or sru[0] < 0 or (sru[0] and sru[1] < 1):
        raise ValueError(f'ff_use_sru {sru} must be [layers >= 0, width >= 1]')
    return cfg


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


class DenseAttention(nn.Module):
    """The F of one attention half-residual: LayerNorm, then trax CausalAttention."""

    def __init__(self, cfg):
        super().__init__()
        d = cfg['d_model']
        self.n_heads = cfg['n_heads']
        self.norm = LayerNorm(d, cfg['center_layernorm'], cfg['layernorm_eps'])
        self.q, self.k, self.v, self.o = (Dense(d, d) for _ in range(4))

    def forward(self, x):
        T, d = x.shape
        H, dh = self.n_heads, d // self.n_heads
        x = self.norm(x)
        # Head h owns features [h*dh, (h+1)*dh).
        q, k, v = (proj(x).view(T, H, dh).transpose(0, 1) for proj in (self.q, self.k, self.v))
        scores = q @ k.transpose(1, 2) / math.sqrt(dh)  # [H, T, T]
        future = torch.ones(T, T, dtype=torch.bool).triu(1)
        weights = torch.softmax(scores.masked_fill(future, float('-inf')), dim=-1)
        return self.o((weights @ v).transpose(0, 1).reshape(T, d))


class DenseFF(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, f = cfg['d_model'], cfg['d_ff']
        self.norm = LayerNorm(d, cfg['center_layernorm'], cfg['layernorm_eps'])
        self.w1, self.w2 = Dense(d, f), Dense(f, d)

    def forward(self, x):
        return self.w2(torch.relu(self.w1(self.norm(x)))), None


class SparseFF(nn.Module):
    """trax SparseFF in predict mode: one active unit out of N in each of the B = d_ff/N blocks.

    Unit (block i, element j) uses w1[:, i, j] and w2[j, i, :]: trax stores w1 as a [d, f] matrix
    reshaped to [d, B, N] (column i*N+j) and w2 as an [f, d] matrix reshaped to [N, B, d] (row j*B+i).
    A trainer adds its Gumbel / straight-through mask on top of `controller`.
    """

    def __init__(self, cfg):
        super().__init__()
        d, f, N, r = cfg['d_model'], cfg['d_ff'], cfg['ff_sparsity'], cfg['d_lowrank']
        self.n_blocks, self.n_units = f // N, N
        B = self.n_blocks
        self.norm = LayerNorm(d, cfg['center_layernorm'], cfg['layernorm_eps'])
        self.m1, self.m2, self.mb = _param(d, r), _param(r, B, N), _param(B, N)
        self.w1, self.w2, self.b2 = _param(d, B, N), _param(N, B, d), _param(d)

    def controller(self, y):
        """Low-rank controller logits [T, B, N] (no bias or activation after m1)."""
        r = self.m1.shape[1]
        flat = (y @ self.m1) @ self.m2.reshape(r, self.n_blocks * self.n_units)
        return flat.view(-1, self.n_blocks, self.n_units) + self.mb

    def forward(self, x):
        y = self.norm(x)
        units = self.controller(y).argmax(-1)  # [T, B]; the first maximum wins, as jnp.argmax
        blocks = torch.arange(self.n_blocks)
        w_in = self.w1.permute(1, 2, 0)[blocks, units]   # [T, B, d]: w1[:, i, j_i]
        w_out = self.w2.permute(1, 0, 2)[blocks, units]  # [T, B, d]: w2[j_i, i, :]
        h = torch.relu(torch.einsum('td,tbd->tb', y, w_in))  # one scalar per block, not softmax-scaled
        return self.b2 + torch.einsum('tb,tbd->td', h, w_out), units


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


class LearnedPositions(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.table = _param(cfg['max_len'], cfg['d_model'])

    def forward(self, T):
        if T > self.table.shape[0]:
            raise ValueError(f'sequence length {T} exceeds max_len {self.table.shape[0]}')
        return self.table[:T]


class DecoderLayer(nn.Module):
    def __init__(self, cfg, index):
        super().__init__()
        types = cfg['decoder_attention_types']
        kind = types[index % len(types)]
        if kind != 'dense':
            raise NotImplementedError(f'attention type {kind!r} (decoder layer {index})')
        self.attn = nn.ModuleList(DenseAttention(cfg) for _ in range(cfg['n_decoder_attention_layers']))
        self.ff = SparseFF(cfg) if cfg['ff_sparsity'] else DenseFF(cfg)

    def forward(self, a, b):
        # Each half-residual is a <- a + F(b), then the streams swap (trax ReversibleHalfResidual + Swap).
        for attn in self.attn:
            a, b = b, a + attn(b)
        out, units = self.ff(b)
        return b, a + out, units


class Decoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        kind = cfg['pos_type']
        self.pos = {'fixed-base': FixedBasePositions, 'learned': LearnedPositions}[kind](cfg) \
            if kind != 'none' else None
        self.layers = nn.ModuleList(DecoderLayer(cfg, L) for L in range(cfg['n_decoder_layers']))
        self.out_norm = LayerNorm(cfg['d_model'], True, cfg['layernorm_eps'])  # always centered

    def forward(self, x):
        if self.pos is not None:
            x = x + self.pos(x.shape[0])
        a = b = x
        units = {}
        for L, layer in enumerate(self.layers):
            a, b, u = layer(a, b)
            if u is not None:
                units[L] = u
        return self.out_norm((a + b) / 2), units


class Terraformer(nn.Module):
    """Decoder-only Terraformer LM. forward(tokens [T]) -> (logits [T, V], {layer: units [T, B]})."""

    def __init__(self, config):
        super().__init__()
        self.config = dict(config)  # as given: written back verbatim by save_checkpoint
        cfg = self.cfg = resolve_config(config)
        self.embedding = _param(cfg['vocab_size'], cfg['d_model'])  # no scaling
        self.decoder = Decoder(cfg)
        self.loss = Dense(cfg['d_model'], cfg['vocab_size'])

    def forward(self, tokens):
        out, units = self.decoder(self.embedding[tokens])
        return self.loss(out), units


def random_init(config, seed=0, dtype=torch.float64):
    """Random weights keeping activations O(1). Values are rounded to float32 so that the F32
    checkpoint holds exactly the weights the float64 ground truth uses; independent of dtype."""
    model = Terraformer(config)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit('.', 1)[-1]
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float64)
            if name == 'embedding':
                value = noise
            elif leaf == 'base_weights':
                value = torch.rand(p.shape, generator=gen, dtype=torch.float64) * 0.1 - 0.05
            elif leaf in ('start_vec', 'table'):
                value = 0.5 * noise
            elif leaf == 'scale':
                value = 1 + 0.1 * noise
            elif leaf in ('bias', 'b2', 'mb'):
                value = 0.1 * noise
            elif leaf in ('kernel', 'm1', 'm2', 'w1'):
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
