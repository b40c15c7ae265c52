"""Self-checks of the reference; exits non-zero on any failure.

usage: /usr/bin/python3 models/reference/selfcheck.py [CONFIG.json ...]   (default: tests/golden/configs/*.json)

(i)   sparse FF (gathering B units) == the dense trax training-path computation with a one-hot mask,
      relu((y @ w1.reshape(d, f)) * mask) @ W2, W2[i*N+j] = w2[j, i]; and the naive w2.reshape(f, d)
      does NOT match (so the check would catch a swapped w2 axis order). Encoder and decoder layers.
(ii)  causality: logits of every prefix equal the first rows of the full-sequence logits, and the
      sparse-FF units of the decoder stack agree (encoder-decoder: the same input tokens each time).
      Encoder-decoder also: changing the last input token changes the encoder output at position 0
      (the encoder is not causal) and the logits at decoder position 0 (the decoder sees the input).
(iii) save -> load round trip gives identical logits and units.
(iv)  mult_conv: LocallyConvDense's tap loops == torch.nn.functional.conv2d on the [M, T, S] grid
      (time-causal zero padding lk-1, module padding (kw-1)/2), and a time-flipped or module-flipped
      kernel does NOT match; the FactoredDense u == x @ K with K[k, s*M+m] = gating[s, k]*projection[k, m].
(v)   sparse loss (FactoredDense) == dense loss with the equivalent [d, V] kernel
      K[k, s*(V/Sl)+m] = gating[s, k]*projection[k, m]; the transposed layout K[k, m*Sl+s] does NOT match.
(vi)  SRU: the step-by-step recurrence == a closed form c_t = sum_{s<=t} exp(sum_{s<u<=t} log f_u) z_s,
      on the actual activations of every SRU cell (inputs: random activations of the layer), and the
      branch output == Dense(n->d) of the cells h = c*r + h_in*(1-r)*sqrt(3) recomputed here.
"""
import glob
import json
import os
import sys
import tempfile

import torch
import torch.nn.functional as F

from terraformer import (LocallyConvDense, MultConvAttention, load_checkpoint, random_init,
                         save_checkpoint, sru_recurrence)

torch.set_num_threads(1)
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
paths = sys.argv[1:] or sorted(glob.glob(os.path.join(root, 'tests', 'golden', 'configs', '*.json')))
failures = 0


def check(ok, what):
    global failures
    failures += not ok
    print(f'  {"ok  " if ok else "FAIL"} {what}')


def conv2d_reference(conv, u, kernel=None):
    """LocallyConvDense as one torch conv2d: image [1, C=M, H=T, W=S], weight [out, in, lk, kw]."""
    kernel = conv.kernel if kernel is None else kernel
    lk, kw, M, _ = kernel.shape
    T, S = u.shape[0], conv.n_modules
    image = u.reshape(T, S, M).permute(2, 0, 1)[None]                    # [1, M, T, S]
    image = F.pad(image, ((kw - 1) // 2, (kw - 1) // 2, lk - 1, 0))      # (W left, right, H top, bottom)
    out = F.conv2d(image, kernel.permute(3, 2, 0, 1), conv.bias)        # [1, M, T, S]
    return out[0].permute(1, 2, 0).reshape(T, S * M)


def factored_as_dense(fd):
    """The [d_in, d_out] kernel a FactoredDense equals: K[k, s*M+m] = gating[s, k] * projection[k, m]."""
    S, d_in = fd.gating.shape
    return (fd.gating.t()[:, :, None] * fd.projection[:, None, :]).reshape(d_in, -1)


def sru_closed_form(f, z):
    """c_t = sum_{s<=t} (prod_{s<u<=t} f_u) z_s, via cumulative sums of log f (exponents <= 0)."""
    T = f.shape[0]
    cum = torch.cumsum(torch.log(f), dim=0)                              # [T, n]
    expo = cum[:, None, :] - cum[None, :, :]                             # [t, s, n]: sum_{s<u<=t} log f_u
    past = torch.ones(T, T, dtype=torch.bool).tril()[:, :, None]
    weights = torch.where(past, torch.exp(torch.where(past, expo, torch.zeros_like(expo))),
                          torch.zeros_like(expo))
    return torch.einsum('tsn,sn->tn', weights, z)


def all_layers(model):
    enc = [('encoder', L, layer) for L, layer in enumerate(model.encoder.layers)] if model.encoder else []
    return enc + [('decoder', L, layer) for L, layer in enumerate(model.decoder.layers)]


with torch.no_grad():
    for path in paths:
        print(os.path.basename(path))
        with open(path) as fh:
            model = random_init(json.load(fh), seed=1)
        cfg = model.cfg
        V, d = cfg['vocab_size'], cfg['d_model']
        V_out = cfg['output_vocab_size'] or V
        gen = torch.Generator().manual_seed(1)
        tokens = torch.cat([torch.zeros(1, dtype=torch.long), torch.randint(2, V_out, (47,), generator=gen)])
        inputs = torch.randint(2, V, (16,), generator=gen) if model.encoder is not None else None
        n_in = 0 if inputs is None else len(inputs)
        logits, units = model(tokens, inputs)
        T = len(tokens) + n_in  # positions of the decoder stack
        rand = lambda *shape: torch.randn(*shape, generator=gen, dtype=torch.float64)

        for stack, L, layer in all_layers(model):
            ff = layer.ff
            if hasattr(ff, 'controller'):
                x = rand(T, d)
                out, sel = ff(x)
                if ff.sru is not None:
                    out = out - ff.sru(x)
                y = ff.norm(x)
                _, B, N = ff.w1.shape
                mask = torch.nn.functional.one_hot(sel, N).reshape(-1, B * N).double()
                mid = torch.relu((y @ ff.w1.reshape(d, B * N)) * mask)  # column i*N+j
                dense = mid @ ff.w2.permute(1, 0, 2).reshape(B * N, d) + ff.b2
                naive = mid @ ff.w2.reshape(B * N, d) + ff.b2
                check(torch.allclose(out, dense, rtol=0, atol=1e-12)
                      and not torch.allclose(out, naive, rtol=0, atol=1e-3),
                      f'(i) {stack} layer {L}: sparse FF == one-hot dense (max diff {(out - dense).abs().max():.1e}), '
                      f'naive w2 order differs by {(out - naive).abs().max():.2f}')

        for stack, L, layer in all_layers(model):
            for k, attn in enumerate(layer.attn):
                if not isinstance(attn, MultConvAttention):
                    continue
                x = rand(T, d)
                u = attn.mult(x)
                u_dense = x @ factored_as_dense(attn.mult) + attn.mult.bias
                check(torch.allclose(u, u_dense, rtol=0, atol=1e-12),
                      f'(iv) {stack} layer {L} attn {k}: FactoredDense == dense equivalent '
                      f'(max diff {(u - u_dense).abs().max():.1e})')
                for conv in attn.qkv:
                    if not isinstance(conv, LocallyConvDense):
                        continue
                    name = [n for n, m in attn.named_children() if m is conv][0]
                    ours, theirs = conv(u), conv2d_reference(conv, u)
                    flipped_t = conv2d_reference(conv, u, conv.kernel.flip(0))
                    flipped_s = conv2d_reference(conv, u, conv.kernel.flip(1))
                    lk, kw = conv.kernel.shape[:2]
                    sensitive = all(not torch.allclose(ours, other, rtol=0, atol=1e-3)
                                    for other, n in ((flipped_t, lk), (flipped_s, kw)) if n > 1)
                    check(torch.allclose(ours, theirs, rtol=0, atol=1e-12) and sensitive,
                          f'(iv) {stack} layer {L} attn {k} {name} [lk {lk}, kw {kw}]: tap loops == conv2d '
                          f'(max diff {(ours - theirs).abs().max():.1e}); flipped kernels differ by '
                          f'{(ours - flipped_t).abs().max():.2f} (time), {(ours - flipped_s).abs().max():.2f} (module)')

        if cfg['loss_sparsity']:
            y = rand(len(tokens), d)
            ours = model.loss(y)
            K = factored_as_dense(model.loss)
            dense = y @ K + model.loss.bias
            Sl, d_in = model.loss.gating.shape
            wrong = y @ K.reshape(d_in, Sl, -1).transpose(1, 2).reshape(d_in, -1) + model.loss.bias
            check(torch.allclose(ours, dense, rtol=0, atol=1e-12)
                  and not torch.allclose(ours, wrong, rtol=0, atol=1e-3),
                  f'(v) sparse loss == dense loss with the equivalent [d, V] kernel '
                  f'(max diff {(ours - dense).abs().max():.1e}); layout m*Sl+s differs by '
                  f'{(ours - wrong).abs().max():.2f}')

        for stack, L, layer in all_layers(model):
            sru = layer.ff.sru
            if sru is None:
                continue
            x = rand(T, d)
            h = getattr(sru, 'in')(sru.norm(x))
            for j, cell in enumerate(sru.cells):
                r, f, y = cell(h).chunk(3, dim=-1)
                f = torch.sigmoid(f)
                z = y * (1 - f)
                loop, closed = sru_recurrence(f, z), sru_closed_form(f, z)
                check(torch.allclose(loop, closed, rtol=0, atol=1e-12)
                      and not torch.allclose(loop, z, rtol=0, atol=1e-3),
                      f'(vi) {stack} layer {L} SRU cell {j}: recurrence loop == closed form over {T} steps '
                      f'(max diff {(loop - closed).abs().max():.1e}), state differs from its input by '
                      f'{(loop - z).abs().max():.2f}')
                h = torch.sigmoid(r) * loop + h * (1 - torch.sigmoid(r)) * 3 ** 0.5
            check(torch.allclose(sru.out(h), sru(x), rtol=0, atol=1e-12),
                  f'(vi) {stack} layer {L} SRU branch == Dense(n->d) of the cells recomputed from '
                  f'the closed-form-checked states (max diff {(sru.out(h) - sru(x)).abs().max():.1e})')

        worst, same = 0.0, True
        for k in range(1, len(tokens)):
            lk, uk = model(tokens[:k], inputs)
            worst = max(worst, (lk - logits[:k]).abs().max().item())
            same &= all(torch.equal(uk[L], units[L][:n_in + k]) for L in units)
        check(worst < 1e-12 and same, f'(ii) causality over all {len(tokens) - 1} decoder prefixes'
                                      + (f' (fixed {n_in} input tokens)' if n_in else '') +
                                      f': max diff {worst:.1e}, units {"equal" if same else "DIFFER"}')
        if inputs is not None:
            changed = inputs.clone()
            changed[-1] = 2 + (changed[-1] - 1) % (V - 2)  # another id in [2, V)
            enc0, enc1 = model.encode(inputs)[0][0][0], model.encode(changed)[0][0][0]
            logits_changed, _ = model(tokens, changed)
            d_enc, d_log = (enc0 - enc1).abs().max().item(), (logits_changed[0] - logits[0]).abs().max().item()
            check(d_enc > 1e-6 and d_log > 1e-6,
                  f'(ii) last input token changed: encoder position 0 moves by {d_enc:.2e}, '
                  f'decoder position 0 logits by {d_log:.2e}')

        with tempfile.TemporaryDirectory() as tmp:
            save_checkpoint(model, tmp)
            logits2, units2 = load_checkpoint(tmp)(tokens, inputs)
        check(torch.equal(logits, logits2) and all(torch.equal(units[L], units2[L]) for L in units),
              '(iii) save -> load round trip: identical logits and units')

print('selfcheck:', 'all passed' if not failures else f'{failures} FAILED')
sys.exit(1 if failures else 0)
