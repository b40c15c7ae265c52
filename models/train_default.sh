#!/bin/sh
# Reproduce the shipped KJV models end to end: corpus, tokenizer, sparse + dense training (same
# steps x batch x seq-len), held-out evaluation, loss-curve plot. About an hour on a 2-core machine
# (measured here: see models/kjv/README.md). Run from anywhere; uses Debian's /usr/bin/python3
# (torch, numpy, sentencepiece, matplotlib) and the `bible` and `spm_train` CLIs.
#   STEPS=700 BATCH=8 SEQ=256 LR=2e-3 models/train_default.sh   (the defaults)
set -eu
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
STEPS=${STEPS:-700}; BATCH=${BATCH:-8}; SEQ=${SEQ:-256}; LR=${LR:-2e-3}
OUT=models/kjv
mkdir -p $OUT/runs
$PY models/corpus/make_corpus.py $OUT/corpus
models/tokenizer/train_tokenizer.sh $OUT/corpus/train.txt models/tokenizer/kjv
for kind in sparse dense; do
  $PY models/trainer/train.py --config models/configs/kjv-$kind.json --corpus $OUT/corpus \
    --tokenizer models/tokenizer/kjv.model --out $OUT/runs/$kind --steps $STEPS --batch $BATCH \
    --seq-len $SEQ --lr $LR --seed 0 --threads 2 --eval-every 100 --ckpt-every 100 --resume \
    2>&1 | tee -a $OUT/train-$kind.log
done
for kind in sparse dense; do
  $PY models/trainer/evaluate.py $OUT/runs/$kind/export --text $OUT/corpus/heldout.txt --window 256 \
    | tee $OUT/eval-$kind.json
done
$PY models/trainer/plot.py $OUT/runs/sparse $OUT/runs/dense --out $OUT/loss_curves.png
