#!/bin/sh
# The shipped man-page summarizer's recipe (models/summarizer/README.md), on a 2-core machine with
# Debian's python3-torch, python3-sentencepiece and sentencepiece (spm_train). The corpus is every
# installed package's English man pages (make_corpus.py --all-installed; the run that made the
# shipped model read the 188 packages listed in models/summarizer/packages.txt).
#   models/summarizer/train_default.sh [CORPUS_DIR] [RUN_DIR]
set -eu
cd "$(dirname "$0")/../.."
C=${1:-/tmp/mancorpus} OUT=${2:-/tmp/summarizer-run}
/usr/bin/python3 models/summarizer/make_corpus.py "$C" --all-installed
/usr/bin/python3 - "$C" <<'PY'
import json, sys
with open(sys.argv[1] + '/spm_train.txt', 'w') as out:
    for line in open(sys.argv[1] + '/train.jsonl'):
        r = json.loads(line)
        out.write(r['input'] + '\n' + r['target'] + '\n')
PY
sh models/tokenizer/train_tokenizer.sh "$C/spm_train.txt" models/summarizer/tokenizer
# Four phases, each from the previous one's export (models/summarizer/README.md has where each stopped).
TRAIN="/usr/bin/python3 models/summarizer/train.py --config models/summarizer/config.json --corpus $C
  --tokenizer models/summarizer/tokenizer.model --batch 8 --input-len 64 --augment 0.7 --augment-words 20"
$TRAIN --out "$OUT/1" --steps 2400 --lr 2e-3 --eval-every 400
$TRAIN --out "$OUT/2" --steps 3400 --lr 1e-3 --eval-every 850 --max-seconds 1200 --init-from "$OUT/1/export"
$TRAIN --out "$OUT/3" --steps 2000 --lr 1e-3 --eval-every 100000 --init-from "$OUT/2/export"
$TRAIN --out "$OUT/4" --steps 8000 --lr 1e-3 --eval-every 2000 --max-seconds 2400 --init-from "$OUT/3/export"
build/bin/terra-convert "$OUT/4/export" -o models/manpage-summarizer.terra --dtype int8
for n in 64 256; do
  /usr/bin/python3 models/summarizer/evaluate.py --terra build/bin/terra --model models/manpage-summarizer.terra \
    --corpus "$C" --tokenizer models/summarizer/tokenizer.model --input-tokens $n \
    --out models/summarizer/runs/shipped/heldout_outputs_$n.jsonl
done
