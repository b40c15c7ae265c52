"""Train the man-page summarizer: an encoder-decoder Terraformer with LSH attention (the PyTorch
reference model), with a SentencePiece tokenizer; export for terra-convert.

usage: /usr/bin/python3 models/summarizer/train.py --config models/summarizer/config.json
           --corpus DIR (make_corpus.py's) --tokenizer SPM.model --out DIR [--steps 3000] [--batch 8]
           [--input-len 384] [--lr 2e-3] [--seed 0] [--threads 1] [--eval-every 250]
           [--augment 0.7] [--augment-words 20] [--init-from OUT/export]

Data: an example's input is the first --input-len tokens of the page's text; the decoder reads
[0] + target and predicts target + [1] (EOS), the target being the NAME line's description
(ids: 0 = <pad>, the start token; 1 = </s>). A step averages the loss of --batch examples drawn at
random, those of the most common input length (--input-len, for nearly every page) in one
batched pass (batch_loss). With --augment p, a fraction p of them get a
description the page does not have (augmented(): another page's, or up to --augment-words words
of its own text), so that copying it from the input is what pays. LSH attention runs its
training pass (lsh_attention.train_pass: the decoder causal over the encoder's rows and the
target, as trax's train mode); terra decodes with trax's predict mode. Its rotations are drawn
once from --seed (train_init) and not trained.
Loss: cross-entropy of the target tokens and EOS. The optimizer, its schedule and the export are
models/trainer/train.py's (make_optimizer, lr_at, optimizer_step, export_model).
Held-out loss every --eval-every steps: the mean NLL per target token on every held-out page,
teacher-forced, with the training pass.

OUT/train_log.csv step,train_loss,wall_seconds   OUT/eval_log.csv step,heldout_nll,wall_seconds
OUT/export/ config.json + model.safetensors (float32) + tokenizer.model
"""
import argparse
import json
import os
import random
import re
import sys
import time

import sentencepiece as spm
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'reference'))
sys.path.insert(0, os.path.join(HERE, '..', 'trainer'))
from terraformer import LSHAttention, Terraformer, load_checkpoint  # noqa: E402
from train import export_model, lr_at, make_optimizer, optimizer_step, train_init, write_csv  # noqa: E402

START, EOS = 0, 1


def read_rows(path):
    return [json.loads(line) for line in open(path, encoding='utf-8')]


def encode(sp, text, target, input_len):
    """-> (the first input_len ids of the input, the target's ids + EOS)."""
    return torch.tensor(sp.encode(text)[:input_len]), torch.tensor(sp.encode(target) + [EOS])


HEADER = re.compile(r'[A-Z][A-Z0-9 ]*')


def split_name(text):
    """A page's input -> (the NAME line up to and with its ' - ', the page after the NAME section),
    or None when the page does not start with a NAME section holding ' - '."""
    lines = text.split('\n')
    if lines[0] != 'NAME':
        return None
    end = 1
    while end < len(lines) and not HEADER.fullmatch(lines[end]):
        end += 1
    name = ' '.join(lines[1:end])
    cut = name.find(' - ')
    return None if cut < 0 else ('NAME\n' + name[:cut + 3], '\n'.join(lines[end:]))


def augmented(rows, rng, longest):
    """One training example with a description the page does not have, so that only copying it
    from the input predicts it (2,715 pages are few enough to learn by heart): half the time
    another page's description, half the time 2 to `longest` consecutive words of the page's text.
    -> (input text, target text) or None."""
    r = rows[rng.randrange(len(rows))]
    parts = split_name(r['input'])
    if parts is None:
        return None
    if rng.random() < 0.5:
        desc = rows[rng.randrange(len(rows))]['target']
    else:
        words = parts[1].split()
        if len(words) < 2:
            return None
        n = rng.randint(2, min(longest, len(words)))
        start = rng.randrange(len(words) - n + 1)
        desc = ' '.join(words[start:start + n])
    return parts[0] + desc + '\n' + parts[1], desc


def example_loss(model, inp, target):
    tokens = torch.cat([torch.tensor([START]), target[:-1]])
    logits, _ = model(tokens, inp)
    return torch.nn.functional.cross_entropy(logits, target, reduction='sum'), len(target)


def batch_loss(model, examples):
    """The summed loss of examples [(input, target)] and their target count: those whose inputs
    have one length (the encoder has no padding mask) in one batched pass, targets padded after
    their end (the decoder is causal: padding changes no earlier position), the others one by one."""
    lengths = [len(inp) for inp, _ in examples]
    n = max(set(lengths), key=lengths.count)
    same = [e for e in examples if len(e[0]) == n]
    T = max(len(target) for _, target in same)
    tokens = torch.zeros(len(same), T, dtype=torch.long)  # START, then the target shifted right
    targets = torch.full((len(same), T), -100, dtype=torch.long)
    for i, (_, target) in enumerate(same):
        tokens[i, 1:len(target)], targets[i, :len(target)] = target[:-1], target
    logits, _ = model(tokens, torch.stack([inp for inp, _ in same]))
    total = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                              ignore_index=-100, reduction='sum')
    count = sum(len(target) for _, target in same)
    for inp, target in (e for e in examples if len(e[0]) != n):
        loss, k = example_loss(model, inp, target)
        total, count = total + loss, count + k
    return total, count


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--config', required=True)
    ap.add_argument('--corpus', required=True)
    ap.add_argument('--tokenizer', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--steps', type=int, default=3000)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--input-len', type=int, default=384)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1,
                    help='1: per-example steps are too small to share (2 threads ran 3x slower here)')
    ap.add_argument('--eval-every', type=int, default=250)
    ap.add_argument('--augment', type=float, default=0.0,
                    help='this fraction of the training examples get a description the page does not have')
    ap.add_argument('--augment-words', type=int, default=9, help='longest span of page text made a description')
    ap.add_argument('--init-from', help="an earlier run's OUT/export to start from")
    ap.add_argument('--max-seconds', type=float, default=0, help='stop (and export) after this much training')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    with open(args.config) as fh:
        config = json.load(fh)
    config['tokenizer'] = {'type': 'sentencepiece', 'model': 'tokenizer.model', 'start_id': START, 'end_id': EOS}
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    if sp.get_piece_size() != config['vocab_size']:
        raise SystemExit(f'tokenizer has {sp.get_piece_size()} pieces, config vocab_size {config["vocab_size"]}')
    model = Terraformer(config)
    train_init(model, args.seed)
    model = model.float()
    if args.init_from:  # continue from an earlier run's export (optimizer state and schedule start afresh)
        model.load_state_dict(load_checkpoint(args.init_from, dtype=torch.float32).state_dict())
    opt, params = make_optimizer(model, args.lr)
    train_rows_text = read_rows(os.path.join(args.corpus, 'train.jsonl'))
    train = [encode(sp, r['input'], r['target'], args.input_len) for r in train_rows_text]
    rng = random.Random(args.seed + 2)

    def example():
        while rng.random() < args.augment:
            got = augmented(train_rows_text, rng, args.augment_words)
            if got is not None:
                return encode(sp, *got, args.input_len)
        return train[rng.randrange(len(train))]

    held = [encode(sp, r['input'], r['target'], args.input_len)
            for r in read_rows(os.path.join(args.corpus, 'heldout.jsonl'))]
    n_params = sum(p.numel() for p in params)
    print(f'{n_params} trained parameters; {len(train)} train pages, {len(held)} held-out', flush=True)
    LSHAttention.training_pass = True
    os.makedirs(args.out, exist_ok=True)
    train_rows, eval_rows, wall, step = [], [], 0.0, 0

    def evaluate():
        nonlocal wall
        t0 = time.time()
        total, count = 0.0, 0
        with torch.no_grad():
            for inp, target in held:
                loss, n = example_loss(model, inp, target)
                total, count = total + loss.item(), count + n
        wall += time.time() - t0
        eval_rows.append([step, f'{total / count:.6f}', f'{wall:.1f}'])
        print(f'step {step}: held-out nll {total / count:.4f} per token', flush=True)

    acc, acc_n = 0.0, 0
    while step < args.steps and not (args.max_seconds and wall > args.max_seconds):
        if step % args.eval_every == 0:
            evaluate()
        t0 = time.time()

        def step_loss():
            total, count = batch_loss(model, [example() for _ in range(args.batch)])
            (total / (args.batch * 10)).backward()  # ~10 target tokens per page: a per-token scale
            return total.item() / count

        loss = optimizer_step(opt, params, lr_at(step, args.steps, args.lr), step_loss)
        step += 1
        wall += time.time() - t0
        acc, acc_n = acc + loss, acc_n + 1
        if step % 10 == 0:
            train_rows.append([step, f'{acc / acc_n:.6f}', f'{wall:.1f}'])
            print(f'step {step}: train nll {acc / acc_n:.4f} per token, wall {wall:.0f}s', flush=True)
            acc, acc_n = 0.0, 0
            write_csv(os.path.join(args.out, 'train_log.csv'), ['step', 'train_loss', 'wall_seconds'], train_rows)
    evaluate()
    write_csv(os.path.join(args.out, 'train_log.csv'), ['step', 'train_loss', 'wall_seconds'], train_rows)
    write_csv(os.path.join(args.out, 'eval_log.csv'), ['step', 'heldout_nll', 'wall_seconds'], eval_rows)
    LSHAttention.training_pass = False
    print(f'step {step}: done, {wall:.0f}s; exported {export_model(model, args.tokenizer, args.out)}', flush=True)


if __name__ == '__main__':
    main()
