"""Scores the shipped summarizer as users run it: `terra generate` (greedy) on every held-out page,
against the page's own NAME description.

usage: /usr/bin/python3 models/summarizer/evaluate.py --terra build/bin/terra --model MODEL.terra
           --corpus DIR (make_corpus.py's) --tokenizer SPM.model [--input-tokens 256] [--out results.jsonl]

Each page's input is cut to its first --input-tokens tokens (256: as in training; a large value
gives whole pages).

Prints: exact matches (case-insensitive), the mean word-overlap F1 (words = lowercase runs of
letters and digits; ROUGE-1 F1 without stemming), the mean F1 of a baseline that answers every page
with the most common words of the training targets, so the figure has something to stand against,
how many distinct outputs there were, and how many outputs appear word for word in their input.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import tempfile

import sentencepiece as spm


def words(text):
    return re.findall(r'[a-z0-9]+', text.lower())


def f1(got, want):
    g, w = collections.Counter(words(got)), collections.Counter(words(want))
    overlap = sum((g & w).values())
    if overlap == 0:
        return 0.0
    p, r = overlap / sum(g.values()), overlap / sum(w.values())
    return 2 * p * r / (p + r)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--terra', required=True)
    ap.add_argument('--model', required=True)
    ap.add_argument('--corpus', required=True)
    ap.add_argument('--tokenizer', required=True)
    ap.add_argument('--input-tokens', type=int, default=256)
    ap.add_argument('--out')
    args = ap.parse_args()
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    held = [json.loads(l) for l in open(os.path.join(args.corpus, 'heldout.jsonl'), encoding='utf-8')]
    train = [json.loads(l) for l in open(os.path.join(args.corpus, 'train.jsonl'), encoding='utf-8')]
    common = ' '.join(w for w, _ in collections.Counter(w for r in train for w in words(r['target'])).most_common(4))
    rows, exact, total, base, copied = [], 0, 0.0, 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for r in held:
            path = os.path.join(tmp, 'page.txt')
            text = sp.decode(sp.encode(r['input'])[:args.input_tokens])
            with open(path, 'w', encoding='utf-8') as fh:
                fh.write(text)
            out = subprocess.run([args.terra, 'generate', '-m', args.model, '--input', path, '--temperature', '0',
                                  '-n', '160'], capture_output=True, text=True, check=True).stdout.strip()
            score = f1(out, r['target'])
            exact += out.strip().lower() == r['target'].strip().lower()
            total += score
            base += f1(common, r['target'])
            copied += bool(out.strip()) and out.strip() in text
            rows.append({'page': r['page'], 'target': r['target'], 'output': out, 'f1': round(score, 4)})
    n = len(held)
    print(f'{n} held-out pages: exact {exact} ({100 * exact / n:.1f}%), word F1 {total / n:.3f} '
          f'(baseline "{common}": {base / n:.3f}); {len(set(row["output"] for row in rows))} distinct outputs, '
          f'{copied} found word for word in their input')
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + '\n')


if __name__ == '__main__':
    main()
