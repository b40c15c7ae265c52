"""Print the logits (and selected sparse-FF units) of a checkpoint for a token sequence.

usage: /usr/bin/python3 models/reference/logits.py CHECKPOINT_DIR --tokens 0,5,9 [--dtype float64|float32]
                                                  [--input-tokens 7,8,9]   (encoder-decoder models)

For an encoder-decoder the logits are those of the decoder positions; ff_units cover the whole decoder
stack (the Ti encoder positions first).
"""
import argparse

import numpy as np
import torch

from terraformer import load_checkpoint

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument('checkpoint')
ap.add_argument('--tokens', required=True, help='comma-separated ids; the first is normally 0 (start)')
ap.add_argument('--dtype', choices=('float64', 'float32'), default='float64')
ap.add_argument('--input-tokens', help='comma-separated encoder input ids (encoder-decoder models only)')
args = ap.parse_args()
torch.set_num_threads(1)

model = load_checkpoint(args.checkpoint, getattr(torch, args.dtype))
tokens = torch.tensor([int(t) for t in args.tokens.split(',')])
inputs = torch.tensor([int(t) for t in args.input_tokens.split(',')]) if args.input_tokens else None
with torch.no_grad():
    logits, units = model(tokens, inputs)
np.set_printoptions(precision=6, linewidth=120, threshold=np.inf)
for t, (tok, row) in enumerate(zip(tokens.tolist(), logits.numpy())):
    print(f'position {t} token {tok} argmax {row.argmax()}')
    print(row)
for L, u in units.items():
    print(f'ff_units.{L}')
    print(u.numpy())
