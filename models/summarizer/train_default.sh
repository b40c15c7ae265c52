#!/bin/sh
# The man-page summarizer's recipe (models/summarizer/README.md: no model ships yet), on a 2-core machine
# with Debian's python3-torch, python3-sentencepiece and sentencepiece (spm_train), and the
# packages make_corpus.py reads installed (apt-get install manpages manpages-dev ...).
set -eu
cd "$(dirname "$0")/../.."
C=${1:-/tmp/mancorpus} OUT=${2:-/tmp/summarizer-run}
/usr/bin/python3 models/summarizer/make_corpus.py "$C"
/usr/bin/python3 - "$C" <<'PY'
import json, sys
with open(sys.argv[1] + '/spm_train.txt', 'w') as out:
    for line in open(sys.argv[1] + '/train.jsonl'):
        r = json.loads(line)
        out.write(r['input'] + '\n' + r['target'] + '\n')
PY
sh models/tokenizer/train_tokenizer.sh "$C/spm_train.txt" models/summarizer/tokenizer
/usr/bin/python3 models/summarizer/train.py --config models/summarizer/config.json --corpus "$C" \
  --tokenizer models/summarizer/tokenizer.model --out "$OUT" --steps 850 --batch 8 --eval-every 200 \
  --max-seconds 1850
build/bin/terra-convert "$OUT/export" -o models/manpage-summarizer.terra --dtype int8
/usr/bin/python3 models/summarizer/evaluate.py --terra build/bin/terra --model models/manpage-summarizer.terra \
  --corpus "$C" --tokenizer models/summarizer/tokenizer.model --out models/summarizer/runs/heldout_outputs.jsonl
