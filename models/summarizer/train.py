"""Train the man-page summarizer: an encoder-decoder Terraformer with LSH attention (the PyTorch
reference model), with a SentencePiece tokenizer; export for terra-convert.

usage: /usr/bin/python3 models/summarizer/train.py --config models/summarizer/config.json
           --corpus DIR (make_corpus.py's) --tokenizer SPM.model --out DIR [--steps 3000] [--batch 8]
           [--input-len 384] [--lr 2e-3] [--seed 0] [--threads 2] [--eval-every 250]

Data: an example's input is the first --input-len tokens of the page's text; the decoder reads
[0] + target and predicts target + [1] (EOS), the target being the NAME line's description
(ids: 0 = <pad>, the start token; 1 = </s>). A step averages the loss of --batch examples drawn at random (each is its own
sequence: no padding). LSH attention runs its training pass (lsh_attention.train_pass: the decoder
causal over the encoder's rows and the target, as trax's train mode); terra decodes with trax's
predict mode. Its rotations are drawn once from --seed (train_init) and not trained.
Loss: cross-entropy of the target bytes and EOS. AdamW (betas 0.9/0.98, weight decay 0.01 on
matrices), warmup then cosine decay to 10% of --lr (models/trainer/train.py's), clipping at 1.0.
Held-out loss every --eval-every steps: the mean NLL per target token on every held-out page,
teacher-forced, with the training pass.

OUT/train_log.csv step,train_loss,wall_seconds   OUT/eval_log.csv step,heldout_nll,wall_seconds
OUT/export/ config.json + model.safetensors (float32) + tokenizer.model
"""
import argparse
import json
import os
import shutil
import sys
import time

import sentencepiece as spm
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'reference'))
sys.path.insert(0, os.path.join(HERE, '..', 'trainer'))
from terraformer import LSHAttention, Terraformer, save_checkpoint  # noqa: E402
from train import lr_at, train_init, write_csv  # noqa: E402

START, EOS = 0, 1


def load(path, sp, input_len):
    rows = [json.loads(line) for line in open(path, encoding='utf-8')]
    return [(r['page'], torch.tensor(sp.encode(r['input'])[:input_len]), torch.tensor(sp.encode(r['target']) + [EOS]))
            for r in rows]


def example_loss(model, inp, target):
    tokens = torch.cat([torch.tensor([START]), target[:-1]])
    logits, _ = model(tokens, inp)
    return torch.nn.functional.cross_entropy(logits, target, reduction='sum'), len(target)


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
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--eval-every', type=int, default=250)
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
    for name, p in model.named_parameters():
        if name.endswith('.rotations'):
            p.requires_grad_(False)
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = [p for n, p in params if p.dim() >= 2 and n != 'embedding']
    no_decay = [p for n, p in params if not (p.dim() >= 2 and n != 'embedding')]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.01}, {'params': no_decay, 'weight_decay': 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-8)
    train = load(os.path.join(args.corpus, 'train.jsonl'), sp, args.input_len)
    held = load(os.path.join(args.corpus, 'heldout.jsonl'), sp, args.input_len)
    n_params = sum(p.numel() for _, p in params)
    print(f'{n_params} trained parameters; {len(train)} train pages, {len(held)} held-out', flush=True)
    LSHAttention.training_pass = True
    gen = torch.Generator().manual_seed(args.seed + 1)
    os.makedirs(args.out, exist_ok=True)
    train_rows, eval_rows, wall, step = [], [], 0.0, 0

    def evaluate():
        nonlocal wall
        t0 = time.time()
        total, count = 0.0, 0
        with torch.no_grad():
            for _, inp, target in held:
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
        for g in opt.param_groups:
            g['lr'] = lr_at(step, args.steps, args.lr)
        opt.zero_grad(set_to_none=True)
        total, count = 0.0, 0
        for i in torch.randint(0, len(train), (args.batch,), generator=gen).tolist():
            loss, n = example_loss(model, train[i][1], train[i][2])
            (loss / (args.batch * 10)).backward()  # ~10 target tokens per page: a per-token scale
            total, count = total + loss.item(), count + n
        torch.nn.utils.clip_grad_norm_([p for _, p in params], 1.0)
        opt.step()
        step += 1
        wall += time.time() - t0
        acc, acc_n = acc + total / count, acc_n + 1
        if step % 10 == 0:
            train_rows.append([step, f'{acc / acc_n:.6f}', f'{wall:.1f}'])
            print(f'step {step}: train nll {acc / acc_n:.4f} per token, wall {wall:.0f}s', flush=True)
            acc, acc_n = 0.0, 0
            write_csv(os.path.join(args.out, 'train_log.csv'), ['step', 'train_loss', 'wall_seconds'], train_rows)
    evaluate()
    write_csv(os.path.join(args.out, 'train_log.csv'), ['step', 'train_loss', 'wall_seconds'], train_rows)
    write_csv(os.path.join(args.out, 'eval_log.csv'), ['step', 'heldout_nll', 'wall_seconds'], eval_rows)
    LSHAttention.training_pass = False
    save_checkpoint(model, os.path.join(args.out, 'export'))
    shutil.copyfile(args.tokenizer, os.path.join(args.out, 'export', 'tokenizer.model'))
    print(f'step {step}: done, {wall:.0f}s; exported {args.out}/export', flush=True)


if __name__ == '__main__':
    main()
