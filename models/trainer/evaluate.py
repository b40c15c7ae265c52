"""Held-out perplexity of an exported checkpoint, with the definition `terra perplexity` implements.

usage: /usr/bin/python3 models/trainer/evaluate.py CHECKPOINT_DIR --text FILE [--window 256] [--threads 2]

CHECKPOINT_DIR holds config.json, model.safetensors and the SentencePiece model named by the
config's tokenizer object (`"model": "tokenizer.model"`). Definition (models/trainer/README.md):
ids = spm.encode(the whole file as one string, read as UTF-8); split ids into consecutive windows of
W ids (the last may be shorter); each window is scored as a fresh sequence [start_id] + window,
predicting every id of the window (position p of the sequence predicts window[p]) with
log_softmax of the logits; NLL = mean over all ids in nats, perplexity = exp(NLL). The model runs
the reference's predict-mode math (argmax sparse-FF units) in float64 on the stored float32 weights;
sums are float64. Prints JSON {"tokens": n, "nll_per_token": x, "perplexity": y}.
"""
import argparse
import json
import math
import os
import sys

import sentencepiece as spm
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'reference'))
from terraformer import load_checkpoint  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('checkpoint')
    ap.add_argument('--text', required=True)
    ap.add_argument('--window', type=int, default=256)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_checkpoint(args.checkpoint, torch.float64)
    tok = model.cfg['tokenizer']
    if tok.get('type') != 'sentencepiece':
        raise SystemExit(f'tokenizer {tok}: evaluate.py needs a sentencepiece model')
    sp = spm.SentencePieceProcessor(model_file=os.path.join(args.checkpoint, tok['model']))
    with open(args.text, encoding='utf-8') as fh:
        ids = sp.encode(fh.read())
    start, W, total = tok['start_id'], args.window, 0.0
    with torch.no_grad():
        for s in range(0, len(ids), W):
            window = torch.tensor(ids[s:s + W], dtype=torch.long)
            seq = torch.cat([torch.tensor([start]), window[:-1]])  # the last position predicts nothing
            logp = torch.log_softmax(model(seq)[0], dim=-1)
            total -= logp.gather(-1, window[:, None]).sum().item()
    nll = total / len(ids)
    print(json.dumps({'tokens': len(ids), 'nll_per_token': nll, 'perplexity': math.exp(nll)}))


if __name__ == '__main__':
    main()
