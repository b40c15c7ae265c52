"""Greedy decoding with the reference, from a .terra file: the token ids the runtime must produce.

usage: PYTHONPATH=<flatc python dir>:models/reference /usr/bin/python3 models/reference/greedy.py \
           MODEL.terra --prompt TEXT -n N [--input TEXT_OR_FILE]
Prints one JSON line {"prompt_ids": [...], "generated": [...]}; the sequence starts with the
start token (id 0), as the runtime and trax decode. Each step re-runs the full sequence (the
reference has no cache): slow, but the full-sequence evaluation is what the runtime's cached
decoding must equal.
"""
import argparse
import json
import os

import torch

from terra_file import load_terra


def encode(text, tokenizer_model, start_id, byte_offset=2):
    if tokenizer_model is None:
        return [b + byte_offset for b in text.encode()]
    import sentencepiece as spm
    sp = spm.SentencePieceProcessor(model_proto=tokenizer_model)
    return sp.encode(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('model')
    ap.add_argument('--prompt', default='')
    ap.add_argument('--input', default=None)
    ap.add_argument('-n', type=int, default=16)
    args = ap.parse_args()
    torch.set_num_threads(2)
    model, tok = load_terra(args.model)
    start = model.config['tokenizer'].get('start_id', 0) if isinstance(model.config.get('tokenizer'), dict) else 0
    prompt = [start] + encode(args.prompt, tok, start)
    text = args.input
    if text is not None and os.path.isfile(text):  # as `terra generate --input`: a file's contents if it names one
        with open(text, encoding='utf-8') as fh:
            text = fh.read()
    inputs = torch.tensor(encode(text, tok, start)) if text is not None else None
    ids, generated = list(prompt), []
    with torch.no_grad():
        for _ in range(args.n):
            logits, _ = model(torch.tensor(ids), inputs) if inputs is not None else model(torch.tensor(ids))
            nxt = int(torch.argmax(logits[-1]))  # the first maximum, as the runtime's greedy sampler
            generated.append(nxt)
            ids.append(nxt)
    print(json.dumps({'prompt_ids': prompt, 'generated': generated}))


if __name__ == '__main__':
    main()
