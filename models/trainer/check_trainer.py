"""Checks of the training path of the reference (float64, small random models); exits non-zero on failure.

usage: /usr/bin/python3 models/trainer/check_trainer.py [CONFIG.json ...]   (default: models/configs/kjv-*.json)

(i)   batched forward [batch, T] with the sparse FF in 'argmax' mode == the unbatched predict-mode
      reference, row by row (logits and units): the batched attention / conv2d / FactoredDense /
      positions and the training-branch FF compute the runtime's function.
(ii)  'hard' with temperature 0 == predict-mode logits (the straight-through one-hot forward is the
      argmax), and its gradient reaches the controller (m1, m2, mb) through the soft mask.
(iii) 'soft' == relu((y @ w1.reshape(d, f)) * softmax(logits).reshape(f)) @ W2 + b2 recomputed here
      with W2[i*N+j] = w2[j, i, :] by explicit loops over (i, j).
(iv)  the training loss equals evaluate.py's metric when the windows coincide (one window).
"""
import glob
import json
import os
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'reference'))
sys.path.insert(0, here)
from terraformer import SparseFF, Terraformer  # noqa: E402
from train import score_windows, train_init  # noqa: E402

torch.set_num_threads(1)
failures = 0


def check(ok, what):
    global failures
    print(f'  {"ok  " if ok else "FAIL"} {what}')
    failures += not ok


def shrink(cfg):
    """The same architecture, smaller (fast float64 checks)."""
    small = dict(cfg, d_model=64, n_heads=4, vocab_size=64)
    if cfg.get('ff_sparsity'):
        small.update(d_ff=128, ff_sparsity=8)
    else:
        small.update(d_ff=96)
    return small


paths = sys.argv[1:] or sorted(glob.glob(os.path.join(here, '..', 'configs', 'kjv-*.json')))
for path in paths:
    with open(path) as fh:
        cfg = shrink(json.load(fh))
    print(path)
    model = Terraformer(cfg)
    train_init(model, 1)
    with torch.no_grad():  # random biases too, so that every term is exercised
        for name, p in model.named_parameters():
            if name.endswith(('bias', 'mb', 'b2')):
                p.copy_(0.1 * torch.randn(p.shape, dtype=p.dtype))
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, cfg['vocab_size'], (3, 40), generator=gen)
    tokens[:, 0] = 0
    with torch.no_grad():
        ref = [model(row) for row in tokens]
        model.set_ff_train_mask('argmax')
        batched, units = model(tokens)
        model.set_ff_train_mask(None)
    err = max((batched[i] - ref[i][0]).abs().max().item() for i in range(3))
    same_units = all(torch.equal(units[L][i], ref[i][1][L]) for i in range(3) for L in units)
    check(err < 1e-10 and same_units, f'(i) batched argmax forward == unbatched predict: max diff {err:.1e}, '
          f'units {"equal" if same_units else "DIFFER"}')

    ffs = [m for m in model.modules() if isinstance(m, SparseFF)]
    if ffs:
        for ff in ffs:
            ff.temperature = 0.0
        model.set_ff_train_mask('hard')
        logits, _ = model(tokens)
        err = max((logits[i] - ref[i][0]).abs().max().item() for i in range(3))
        logits.square().mean().backward()
        grads = [getattr(ff, w).grad for ff in ffs for w in ('m1', 'm2', 'mb')]
        check(err < 1e-10 and all(g is not None and g.abs().max() > 0 for g in grads),
              f'(ii) hard (temperature 0) forward == predict: max diff {err:.1e}; controller gradients non-zero')
        model.zero_grad()
        for ff in ffs:
            ff.temperature = 0.1

        ff = ffs[0]
        ff.train_mask = 'soft'
        x = torch.randn(5, cfg['d_model'], dtype=torch.float64)
        with torch.no_grad():
            out, _ = ff(x)
            y = ff.norm(x)
            mask = torch.softmax(ff.controller(y), dim=-1)  # [5, B, N]
            want = ff.b2.expand(5, -1).clone()
            for i in range(ff.n_blocks):
                for j in range(ff.n_units):
                    h = torch.relu((y @ ff.w1[:, i, j]) * mask[:, i, j])
                    want += h[:, None] * ff.w2[j, i][None, :]
        ff.train_mask = None
        check((out - want).abs().max().item() < 1e-10,
              f'(iii) soft mask FF == explicit unit loops: max diff {(out - want).abs().max().item():.1e}')

    with torch.no_grad():
        ids = tokens[0, 1:]  # one window of 39 ids
        nll, n = score_windows(model, ids, window=len(ids))
        inp = torch.cat([torch.tensor([0]), ids[:-1]])
        logits, _ = model(inp)
        ce = torch.nn.functional.cross_entropy(logits, ids, reduction='sum').item()
    check(abs(nll - ce) < 1e-9, f'(iv) evaluation metric == training cross-entropy on one window ({nll / n:.6f})')

print('check_trainer: ' + ('all passed' if not failures else f'{failures} FAILED'))
sys.exit(1 if failures else 0)
