"""Write a random checkpoint and its golden outputs into one folder.

usage: /usr/bin/python3 models/reference/golden.py --config CONFIG.json --out DIR [--seed S] [--tokens T]
                                                   [--input-tokens Ti]

DIR/config.json, DIR/model.safetensors: the checkpoint (F32 weights).
DIR/golden.safetensors:
  tokens        I32 [T]      tokens[0] = 0 (start id), the rest uniform in [2, V)
  input_tokens  I32 [Ti]     encoder-decoder models only: the encoder's input, uniform in [2, V)
                             (no start token, no padding); --input-tokens, default 24
  logits        F32 [T, V]   float64 reference at the T decoder positions (0..T-1)
  ff_units.L    I32 [P, B]   selected unit per block, for every sparse-FF decoder layer L, at every
                             position of the decoder stack: P = T, or Ti + T for an encoder-decoder
                             (the encoder's Ti positions first)
  encoder_ff_units.L  I32 [Ti, B]  the same for encoder layer L (encoder-decoder with sparse FF)
  logits_f16w, ff_units_f16w.L, encoder_ff_units_f16w.L  the same with the weights a
              `terra-convert --dtype f16` file holds in half precision rounded to float16, computed
              in float64: `embedding` and every tensor whose name ends in .kernel .m1 .m2 .w1 .w2
              .gating .projection (vectors, biases, mb and positional weights stay f32)
"""
import argparse
import json
import os

import numpy as np
import torch

import lsh_attention
from terraformer import load_checkpoint, random_init, save_checkpoint, write_safetensors

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument('--config', required=True)
ap.add_argument('--out', required=True)
ap.add_argument('--seed', type=int, default=0)
ap.add_argument('--tokens', type=int, default=64)
ap.add_argument('--input-tokens', type=int, default=24, help='encoder input length (encoder-decoder only)')
args = ap.parse_args()
torch.set_num_threads(1)

with open(args.config) as fh:
    save_checkpoint(random_init(json.load(fh), args.seed), args.out)
model = load_checkpoint(args.out)  # the ground truth uses exactly the stored weights
V = model.cfg['vocab_size']
V_out = model.cfg['output_vocab_size'] or V  # the decoder's tokens and logits
encdec = model.encoder is not None
gen = torch.Generator().manual_seed(args.seed)
tokens = torch.cat([torch.zeros(1, dtype=torch.long),
                    torch.randint(2, V_out, (args.tokens - 1,), generator=gen)])
inputs = torch.randint(2, V, (args.input_tokens,), generator=gen) if encdec else None

# Record how close each controller decision is to a tie: a float32 runtime may flip near-ties.
def record_margins(m, margins):
    stacks = [('', m.decoder.layers)] + ([('enc.', m.encoder.layers)] if encdec else [])
    for prefix, layers in stacks:
        for L, layer in enumerate(layers):
            if hasattr(layer.ff, 'controller'):
                def record(ff, args_in, _, key=f'{prefix}{L}'):
                    top2 = ff.controller(ff.norm(args_in[0])).topk(2, dim=-1).values
                    margins[key] = (top2[..., 0] - top2[..., 1]).min().item()
                layer.ff.register_forward_hook(record)


margins, margins16 = {}, {}
record_margins(model, margins)

# The converter's f16 rule: matrices (kernels, sparse-FF m1/m2/w1/w2, factored gating/projection)
# and the embedding.
F16_SUFFIXES = ('.kernel', '.m1', '.m2', '.w1', '.w2', '.gating', '.projection')
model16 = load_checkpoint(args.out)
with torch.no_grad():
    for name, p in model16.named_parameters():
        if name in ('embedding', 'decoder.embedding') or name.endswith(F16_SUFFIXES):
            p.copy_(p.half().double())
record_margins(model16, margins16)
model32 = load_checkpoint(args.out, torch.float32)


def run(m):
    """-> logits, decoder units, encoder units."""
    logits, units = m(tokens, inputs)
    enc_units = m.encode(inputs)[1] if encdec else {}
    return logits, units, enc_units


with torch.no_grad():
    lsh_attention.margins = []  # LSH bucket choices: a float32 runtime may flip a near-tie too
    logits, units, enc_units = run(model)
    lsh_margin = min(lsh_attention.margins, default=None)
    lsh_attention.margins = None
    logits32, units32, enc_units32 = run(model32)
    logits16, units16, enc_units16 = run(model16)

i32 = lambda u: u.numpy().astype(np.int32)
golden = {'tokens': i32(tokens), 'logits': logits.numpy().astype(np.float32),
          'logits_f16w': logits16.numpy().astype(np.float32)}
if encdec:
    golden['input_tokens'] = i32(inputs)
for name, table in (('ff_units', units), ('ff_units_f16w', units16),
                    ('encoder_ff_units', enc_units), ('encoder_ff_units_f16w', enc_units16)):
    golden.update({f'{name}.{L}': i32(u) for L, u in table.items()})
write_safetensors(os.path.join(args.out, 'golden.safetensors'), golden,
                  {'seed': str(args.seed), 'config': os.path.basename(args.config)})

same_units = all(torch.equal(units[L], units32[L]) for L in units) and \
    all(torch.equal(enc_units[L], enc_units32[L]) for L in enc_units)
print(f'{args.out}: T={len(tokens)}' + (f' Ti={len(inputs)}' if encdec else '') +
      f' V={V} |logits|max={logits.abs().max():.3f} '
      f'float32-vs-float64 max|dlogit|={(logits32.double() - logits).abs().max():.2e} '
      f'float32 units {"match" if same_units else "DIFFER"}'
      + ''.join(f' margin.{L}={m:.2e}' for L, m in margins.items())
      + (f' min margin={min(margins.values()):.2e} (f16w {min(margins16.values()):.2e})' if margins else '')
      + (f' lsh bucket margin={lsh_margin:.2e}' if lsh_margin is not None else ''))
