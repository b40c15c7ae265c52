"""Train a Terraformer LM (the PyTorch reference model) on a text corpus; export for terra-convert.

usage: /usr/bin/python3 models/trainer/train.py --config CFG.json --corpus DIR --tokenizer SPM.model
           --out DIR [--steps 2000] [--batch 16] [--seq-len 128] [--lr 2e-3] [--seed 0] [--threads 2]
           [--eval-every 200] [--ckpt-every 100] [--resume] [--count-only]

Data: ids = spm.encode(DIR/train.txt as one string); a batch is --batch random windows of --seq-len ids
(start uniform over the whole text); each is fed as [0] + window[:-1] and predicts every id of the
window (start token first, as decoding does). Loss: mean next-token cross-entropy of
log_softmax(loss layer logits). float32, AdamW (betas 0.9/0.98, weight decay 0.01 on matrices),
linear warmup (5% of steps) then cosine decay to 10% of --lr, gradient clipping at 1.0.
Sparse FF: trax's training recipe, per layer and step: with probability quant_prob = 0.3 the hard
Gumbel one-hot (temperature 0.1) with a straight-through gradient, else the soft mask.
Held-out eval every --eval-every steps: the exact evaluate.py metric on DIR/heldout.txt (windows of
--seq-len, predict-mode argmax units).

OUT/train_log.csv  step,train_loss,tokens_seen,wall_seconds   (train_loss: mean over the steps since
                   the previous row; wall_seconds: training wall time, summed over resumed runs)
OUT/eval_log.csv   step,heldout_nll,heldout_ppl,tokens_seen,wall_seconds
OUT/ckpt.pt        model + optimizer + step + RNG states + logs, written atomically every
                   --ckpt-every steps and at the end; --resume continues from it exactly.
OUT/export/        config.json (+ tokenizer object), model.safetensors (float32), tokenizer.model
"""
import argparse
import csv
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import sentencepiece as spm
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'reference'))
from terraformer import SparseFF, Terraformer, save_checkpoint  # noqa: E402

QUANT_PROB = 0.3
START_ID = 0


def train_init(model, seed):
    """Training initialisation (the same rule for sparse and dense models): LayerNorm scale 1 and
    biases 0; embedding N(0, 1); matrices N(0, 1/fan_in) (conv kernels: fan_in = lk*kw*M; sparse-FF
    w2 [N, B, d] as the [f, d] matrix it is, fan_in f); FactoredDense gating N(0, 0.5^2) as trax."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit('.', 1)[-1]
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float64)
            if leaf == 'scale':
                value = torch.ones_like(noise)
            elif leaf in ('bias', 'b2', 'mb'):
                value = torch.zeros_like(noise)
            elif name == 'embedding':
                value = noise
            elif leaf == 'base_weights':
                value = 0.1 * noise
            elif leaf in ('start_vec', 'table'):
                value = 0.1 * noise
            elif leaf == 'rotations':  # LSH attention's: fixed (not trained), N(0, 1) as trax draws them
                value = noise
            elif leaf == 'gating':
                value = 0.5 * noise
            elif leaf == 'kernel' and p.dim() == 4:
                value = noise / math.sqrt(p.shape[0] * p.shape[1] * p.shape[2])
            elif leaf in ('kernel', 'projection', 'm1', 'm2', 'w1'):
                value = noise / math.sqrt(p.shape[0])
            elif leaf == 'w2':
                value = noise / math.sqrt(p.shape[0] * p.shape[1])
            else:
                raise AssertionError(f'no init rule for {name}')
            p.copy_(value)


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def encode_file(sp, path):
    with open(path, encoding='utf-8') as fh:
        return torch.tensor(sp.encode(fh.read()), dtype=torch.long)


@torch.no_grad()
def score_windows(model, ids, window, batch=32):
    """Sum of NLL (float64) over all ids: consecutive windows of `window` ids, each scored as a fresh
    sequence [0] + window (the last window may be shorter). Sparse FF in predict-mode (argmax)."""
    model.set_ff_train_mask('argmax')
    total, n = 0.0, len(ids)
    starts = list(range(0, n, window))
    full = [s for s in starts if s + window <= n]
    rest = [s for s in starts if s + window > n]
    for i in range(0, len(full), batch):
        w = torch.stack([ids[s:s + window] for s in full[i:i + batch]])
        inp = torch.cat([torch.full((w.shape[0], 1), START_ID), w[:, :-1]], dim=1)
        logp = torch.log_softmax(model(inp)[0].double(), dim=-1)
        total -= logp.gather(-1, w[..., None]).sum().item()
    for s in rest:
        w = ids[s:]
        inp = torch.cat([torch.tensor([START_ID]), w[:-1]])
        logp = torch.log_softmax(model(inp)[0].double(), dim=-1)
        total -= logp.gather(-1, w[:, None]).sum().item()
    model.set_ff_train_mask(None)
    return total, n


def lr_at(step, steps, lr):
    warm = max(1, steps // 20)
    if step < warm:
        return lr * (step + 1) / warm
    t = (step - warm) / max(1, steps - warm)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def make_optimizer(model, lr):
    """AdamW (betas 0.9/0.98, weight decay 0.01 on matrices but the embedding) over every trained
    parameter; LSH rotations are frozen first (trax draws them, never trains them).
    -> (optimizer, the trained parameters)."""
    for name, p in model.named_parameters():
        if name.endswith('.rotations'):
            p.requires_grad_(False)
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    matrix = lambda n, p: p.dim() >= 2 and n != 'embedding'
    opt = torch.optim.AdamW([{'params': [p for n, p in params if matrix(n, p)], 'weight_decay': 0.01},
                             {'params': [p for n, p in params if not matrix(n, p)], 'weight_decay': 0.0}],
                            lr=lr, betas=(0.9, 0.98), eps=1e-8)
    return opt, [p for _, p in params]


def optimizer_step(opt, params, lr, loss_backward):
    """One update at learning rate lr: loss_backward() accumulates the gradients and returns the
    loss to log; gradients are clipped to norm 1.0."""
    for g in opt.param_groups:
        g['lr'] = lr
    opt.zero_grad(set_to_none=True)
    loss = loss_backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    return loss


def export_model(model, tokenizer, out):
    """OUT/export: config.json + model.safetensors (float32) + tokenizer.model, terra-convert's input."""
    export = os.path.join(out, 'export')
    save_checkpoint(model, export)
    shutil.copyfile(tokenizer, os.path.join(export, 'tokenizer.model'))
    return export


def write_csv(path, header, rows):
    tmp = path + '.tmp'
    with open(tmp, 'w', newline='') as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--config', required=True)
    ap.add_argument('--corpus', required=True)
    ap.add_argument('--tokenizer', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--steps', type=int, default=2000)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--seq-len', type=int, default=128)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--eval-every', type=int, default=200)
    ap.add_argument('--ckpt-every', type=int, default=100)
    ap.add_argument('--log-every', type=int, default=10)
    ap.add_argument('--resume', action='store_true')
    ap.add_argument('--count-only', action='store_true', help='print the parameter count and exit')
    ap.add_argument('--stop-after', type=int, default=0,
                    help='testing: exit (without the final checkpoint) after this many steps of this run')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)

    with open(args.config) as fh:
        config = json.load(fh)
    config['tokenizer'] = {'type': 'sentencepiece', 'model': 'tokenizer.model',
                           'start_id': START_ID, 'end_id': 1}
    model = Terraformer(config)
    n_params = count_params(model)
    print(f'{args.config}: {n_params} parameters ({n_params * 4 / 2**20:.2f} MiB float32)', flush=True)
    if args.count_only:
        return
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    if sp.get_piece_size() != model.cfg['vocab_size']:
        raise SystemExit(f'tokenizer has {sp.get_piece_size()} pieces, config vocab_size {model.cfg["vocab_size"]}')
    train_ids = encode_file(sp, os.path.join(args.corpus, 'train.txt'))
    held_ids = encode_file(sp, os.path.join(args.corpus, 'heldout.txt'))
    print(f'train {len(train_ids)} ids, held-out {len(held_ids)} ids', flush=True)

    train_init(model, args.seed)
    model = model.float()
    opt, params = make_optimizer(model, args.lr)
    gen = torch.Generator().manual_seed(args.seed + 1)  # data windows, quant choices, Gumbel noise
    sparse_ffs = [m for m in model.modules() if isinstance(m, SparseFF)]
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, 'ckpt.pt')
    step, wall, train_rows, eval_rows = 0, 0.0, [], []
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['optimizer'])
        gen.set_state(ck['gen'])
        torch.set_rng_state(ck['torch_rng'])
        step, wall, train_rows, eval_rows = ck['step'], ck['wall'], ck['train_rows'], ck['eval_rows']
        print(f'resumed from {ckpt_path} at step {step}', flush=True)
    train_log = os.path.join(args.out, 'train_log.csv')
    eval_log = os.path.join(args.out, 'eval_log.csv')

    def checkpoint():
        tmp = ckpt_path + '.tmp'
        torch.save({'model': model.state_dict(), 'optimizer': opt.state_dict(), 'gen': gen.get_state(),
                    'torch_rng': torch.get_rng_state(), 'step': step, 'wall': wall,
                    'train_rows': train_rows, 'eval_rows': eval_rows, 'args': vars(args)}, tmp)
        os.replace(tmp, ckpt_path)
        write_csv(train_log, ['step', 'train_loss', 'tokens_seen', 'wall_seconds'], train_rows)
        write_csv(eval_log, ['step', 'heldout_nll', 'heldout_ppl', 'tokens_seen', 'wall_seconds'], eval_rows)

    def evaluate():
        nonlocal wall
        t0 = time.time()
        nll, n = score_windows(model, held_ids, args.seq_len)
        wall += time.time() - t0
        eval_rows.append([step, f'{nll / n:.6f}', f'{math.exp(nll / n):.4f}',
                          step * args.batch * args.seq_len, f'{wall:.1f}'])
        print(f'step {step}: held-out nll {nll / n:.4f} ppl {math.exp(nll / n):.2f}', flush=True)

    T, nb = args.seq_len, args.batch
    acc, acc_n, this_run = 0.0, 0, 0
    while step < args.steps:
        t0 = time.time()
        if step % args.eval_every == 0 and not any(r[0] == step for r in eval_rows):
            evaluate()
            t0 = time.time()
        starts = torch.randint(0, len(train_ids) - T + 1, (nb,), generator=gen)
        w = torch.stack([train_ids[s:s + T] for s in starts.tolist()])
        inp = torch.cat([torch.full((nb, 1), START_ID), w[:, :-1]], dim=1)
        hard = (torch.rand(len(sparse_ffs), generator=gen) < QUANT_PROB).tolist()
        for ff, h in zip(sparse_ffs, hard):
            ff.train_mask, ff.generator = ('hard' if h else 'soft'), gen

        def batch_loss():
            logits, _ = model(inp)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), w.reshape(-1))
            loss.backward()
            return loss.item()

        loss = optimizer_step(opt, params, lr_at(step, args.steps, args.lr), batch_loss)
        model.set_ff_train_mask(None)
        step += 1
        this_run += 1
        wall += time.time() - t0
        acc += loss
        acc_n += 1
        if step % args.log_every == 0 or step == args.steps:
            train_rows.append([step, f'{acc / acc_n:.6f}', step * nb * T, f'{wall:.1f}'])
            print(f'step {step}: train loss {acc / acc_n:.4f} lr {lr_at(step - 1, args.steps, args.lr):.2e} '
                  f'wall {wall:.0f}s', flush=True)
            acc, acc_n = 0.0, 0
        if args.stop_after and this_run >= args.stop_after:
            print(f'--stop-after {args.stop_after}: exiting at step {step} without a checkpoint', flush=True)
            return
        if step % args.ckpt_every == 0 and step < args.steps:
            checkpoint()
    if not any(r[0] == step for r in eval_rows):
        evaluate()
    checkpoint()
    export = export_model(model, args.tokenizer, args.out)
    print(f'step {step}: done, {wall:.0f}s training wall time; exported {export}', flush=True)


if __name__ == '__main__':
    main()
