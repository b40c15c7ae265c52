#!/bin/sh
# Train the KJV SentencePiece tokenizer on the training split only.
# usage: models/tokenizer/train_tokenizer.sh TRAIN_TXT [OUT_PREFIX]   (default OUT_PREFIX: models/tokenizer/kjv)
# Unigram, 2048 pieces, byte fallback (no <unk> in practice), identity normalization, whitespace kept
# as is and no dummy prefix, so decode(encode(s)) == s exactly for any string, and a verse's first word
# is tokenized the same way in training (one line = one sentence) as after a '\n' when a whole file
# is encoded as one string (the trainer and `terra perplexity` do that). ids: 0 = <pad> (the start token
# trax feeds first), 1 = </s> (ends generation), 2 = <unk>, no <s>. Deterministic: one thread, no
# sentence sampling (the 29529 verse lines are all used).
set -eu
TRAIN=${1:?usage: train_tokenizer.sh TRAIN_TXT [OUT_PREFIX]}
PREFIX=${2:-$(dirname "$0")/kjv}
spm_train --input="$TRAIN" --model_prefix="$PREFIX" --model_type=unigram --vocab_size=2048 \
  --byte_fallback=true --character_coverage=1.0 --normalization_rule_name=identity \
  --remove_extra_whitespaces=false --add_dummy_prefix=false --split_digits=true \
  --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 --pad_piece='<pad>' --eos_piece='</s>' --unk_piece='<unk>' \
  --input_sentence_size=0 --shuffle_input_sentence=false --num_threads=1 \
  --max_sentence_length=16384 --minloglevel=1
echo "wrote $PREFIX.model and $PREFIX.vocab"
