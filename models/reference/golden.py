"""Write a random checkpoint and its golden outputs into one folder.

usage: /usr/bin/python3 models/reference/golden.py --config CONFIG.json --out DIR [--seed S] [--tokens T]

DIR/config.json, DIR/model.safetensors: the checkpoint (F32 weights).
DIR/golden.safetensors:
  tokens      I32 [T]     tokens[0] = 0 (start id), the rest uniform in [2, V)
  logits      F32 [T, V]  float64 reference over the whole sequence (positions 0..T-1)
  ff_units.L  I32 [T, B]  selected unit per block, for every sparse-FF decoder layer L
  logits_f16w, ff_units_f16w.L  the same with the weights a `terra-convert --dtype f16` file holds
              (weight matrices and the embedding) rounded to float16, computed in float64
"""
import argparse
import json
import os

import numpy as np
import torch

from terraformer import load_checkpoint, random_init, save_checkpoint, write_safetensors

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument('--config', required=True)
ap.add_argument('--out', required=True)
ap.add_argument('--seed', type=int, default=0)
ap.add_argument('--tokens', type=int, default=64)
args = ap.parse_args()
torch.set_num_threads(1)

with open(args.config) as fh:
    save_checkpoint(random_init(json.load(fh), args.seed), args.out)
model = load_checkpoint(args.out)  # the ground truth uses exactly the stored weights
V = model.cfg['vocab_size']
gen = torch.Generator().manual_seed(args.seed)
tokens = torch.cat([torch.zeros(1, dtype=torch.long),
                    torch.randint(2, V, (args.tokens - 1,), generator=gen)])

# Record how close each controller decision is to a tie: a float32 runtime may flip near-ties.
margins = {}
for L, layer in enumerate(model.decoder.layers):
    if hasattr(layer.ff, 'controller'):
        def record(ff, inputs, _, L=L):
            top2 = ff.controller(ff.norm(inputs[0])).topk(2, dim=-1).values
            margins[L] = (top2[..., 0] - top2[..., 1]).min().item()
        layer.ff.register_forward_hook(record)

# The converter's f16 rule: matrices (kernels, sparse-FF m1/m2/w1/w2) and the embedding.
F16_SUFFIXES = ('.kernel', '.m1', '.m2', '.w1', '.w2')
model16 = load_checkpoint(args.out)
with torch.no_grad():
    for name, p in model16.named_parameters():
        if name == 'embedding' or name.endswith(F16_SUFFIXES):
            p.copy_(p.half().double())

with torch.no_grad():
    logits, units = model(tokens)
    logits32, units32 = load_checkpoint(args.out, torch.float32)(tokens)
    logits16, units16 = model16(tokens)

golden = {'tokens': tokens.numpy().astype(np.int32), 'logits': logits.numpy().astype(np.float32)}
golden.update({f'ff_units.{L}': u.numpy().astype(np.int32) for L, u in units.items()})
golden['logits_f16w'] = logits16.numpy().astype(np.float32)
golden.update({f'ff_units_f16w.{L}': u.numpy().astype(np.int32) for L, u in units16.items()})
write_safetensors(os.path.join(args.out, 'golden.safetensors'), golden,
                  {'seed': str(args.seed), 'config': os.path.basename(args.config)})

same_units = all(torch.equal(units[L], units32[L]) for L in units)
print(f'{args.out}: T={len(tokens)} V={V} |logits|max={logits.abs().max():.3f} '
      f'float32-vs-float64 max|dlogit|={(logits32.double() - logits).abs().max():.2e} '
      f'float32 units {"match" if same_units else "DIFFER"}'
      + ''.join(f' margin.{L}={m:.2e}' for L, m in margins.items()))
