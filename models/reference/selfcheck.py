"""Self-checks of the reference; exits non-zero on any failure.

usage: /usr/bin/python3 models/reference/selfcheck.py [CONFIG.json ...]   (default: tests/golden/configs/*.json)

(i)   sparse FF (gathering B units) == the dense trax training-path computation with a one-hot mask,
      relu((y @ w1.reshape(d, f)) * mask) @ W2, W2[i*N+j] = w2[j, i]; and the naive w2.reshape(f, d)
      does NOT match (so the check would catch a swapped w2 axis order).
(ii)  causality: logits of every prefix equal the first rows of the full-sequence logits.
(iii) save -> load round trip gives identical logits and units.
"""
import glob
import json
import os
import sys
import tempfile

import torch

from terraformer import load_checkpoint, random_init, save_checkpoint

torch.set_num_threads(1)
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
paths = sys.argv[1:] or sorted(glob.glob(os.path.join(root, 'tests', 'golden', 'configs', '*.json')))
failures = 0


def check(ok, what):
    global failures
    failures += not ok
    print(f'  {"ok  " if ok else "FAIL"} {what}')


with torch.no_grad():
    for path in paths:
        print(os.path.basename(path))
        with open(path) as fh:
            model = random_init(json.load(fh), seed=1)
        V = model.cfg['vocab_size']
        gen = torch.Generator().manual_seed(1)
        tokens = torch.cat([torch.zeros(1, dtype=torch.long), torch.randint(2, V, (47,), generator=gen)])
        logits, units = model(tokens)

        for L, layer in enumerate(model.decoder.layers):
            ff = layer.ff
            if not hasattr(ff, 'controller'):
                continue
            x = torch.randn(len(tokens), model.cfg['d_model'], generator=gen, dtype=torch.float64)
            out, sel = ff(x)
            y = ff.norm(x)
            d, B, N = ff.w1.shape
            mask = torch.nn.functional.one_hot(sel, N).reshape(-1, B * N).double()
            mid = torch.relu((y @ ff.w1.reshape(d, B * N)) * mask)  # column i*N+j
            dense = mid @ ff.w2.permute(1, 0, 2).reshape(B * N, d) + ff.b2
            naive = mid @ ff.w2.reshape(B * N, d) + ff.b2
            check(torch.allclose(out, dense, rtol=0, atol=1e-12)
                  and not torch.allclose(out, naive, rtol=0, atol=1e-3),
                  f'(i) layer {L}: sparse FF == one-hot dense (max diff {(out - dense).abs().max():.1e}), '
                  f'naive w2 order differs by {(out - naive).abs().max():.2f}')

        worst, same = 0.0, True
        for k in range(1, len(tokens)):
            lk, uk = model(tokens[:k])
            worst = max(worst, (lk - logits[:k]).abs().max().item())
            same &= all(torch.equal(uk[L], units[L][:k]) for L in units)
        check(worst < 1e-12 and same, f'(ii) causality over all {len(tokens) - 1} prefixes: '
                                      f'max diff {worst:.1e}, units {"equal" if same else "DIFFER"}')

        with tempfile.TemporaryDirectory() as tmp:
            save_checkpoint(model, tmp)
            logits2, units2 = load_checkpoint(tmp)(tokens)
        check(torch.equal(logits, logits2) and all(torch.equal(units[L], units2[L]) for L in units),
              '(iii) save -> load round trip: identical logits and units')

print('selfcheck:', 'all passed' if not failures else f'{failures} FAILED')
sys.exit(1 if failures else 0)
