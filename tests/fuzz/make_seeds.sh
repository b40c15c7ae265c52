#!/usr/bin/env bash
# Seed corpora for the fuzz targets, made from what the repository holds (nothing binary is kept
# in it): small synthesized models of every layer type in every dtype, the SentencePiece models,
# config.json files, tiny safetensors files and prompts for the C API.
#   tests/fuzz/make_seeds.sh TERRA_CONVERT OUT_DIR
set -euo pipefail
convert=${1:?usage: make_seeds.sh TERRA_CONVERT OUT_DIR}
out=${2:?usage: make_seeds.sh TERRA_CONVERT OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rm -rf "$out"
mkdir -p "$out"/{fuzz_model_file,fuzz_converter_inputs,fuzz_tokenizer,fuzz_c_api,fuzz_trax_checkpoint}

# Models: the golden configs (every layer type) at width 16, in each dtype; small enough that a
# fuzzer runs thousands of them a second.
for cfg in "$root"/tests/golden/configs/*.json "$root"/tests/data/ids_vocab2.json; do
  name=$(basename "$cfg" .json)
  small=$out/$name.json
  /usr/bin/python3 - "$cfg" "$small" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
# The same layer types at width 32 (int4 rows need 32), two layers, short tables: tens of KB.
c["d_model"], c["n_heads"] = 32, 2
n = c.get("ff_sparsity", 0)
c["d_ff"] = 4 * n if n else 64
if n: c["d_lowrank"] = min(c.get("d_lowrank", 4) or 4, 4)
if c.get("qkv_sparsity", 1) > 1: c["qkv_sparsity"] = 4
if c.get("ff_use_sru"): c["ff_use_sru"] = [1, 8]
if c.get("pos_type", "fixed-base") == "fixed-base": c["pos_n_digits"] = 4
c["n_decoder_layers"] = min(c["n_decoder_layers"], 2)
if c.get("n_encoder_layers"): c["n_encoder_layers"] = 1
c["max_len"] = min(c.get("max_len", 64), 64)
json.dump(c, open(sys.argv[2], "w"))
PY
  for dtype in f32 f16 int8 int4; do
    "$convert" -q --synthesize "$small" --dtype "$dtype" -o "$out/fuzz_model_file/$name-$dtype.terra"
  done
  { printf '\001'; cat "$small"; } > "$out/fuzz_converter_inputs/$name.json"
  rm -f "$small"
done
"$convert" -q --synthesize "$root/tests/data/spm_tiny.json" -o "$out/fuzz_model_file/spm_tiny.terra"

# Tokenizer blobs: the KJV model (identity normalization) and an NFKC model (a normalization trie).
{ printf '\000'; cat "$root/models/tokenizer/kjv.model"; } > "$out/fuzz_tokenizer/kjv.model"
{ printf '\001'; cat "$root/tests/data/trax/subword/en_8k.subword"; } > "$out/fuzz_tokenizer/en_8k.subword"
spm_train --input="$root/tests/data/kjv_heldout_sample.txt" --model_prefix="$out/nfkc" --vocab_size=100 \
  --hard_vocab_limit=false --model_type=unigram --normalization_rule_name=nmt_nfkc --character_coverage=0.98 \
  --num_threads=1 --minloglevel=2
{ printf '\000'; cat "$out/nfkc.model"; } > "$out/fuzz_tokenizer/nfkc.model"
rm -f "$out/nfkc.model"
rm -f "$out/nfkc.vocab"

# safetensors files (first byte 0): F32, F16, BF16 and I32 tensors.
/usr/bin/python3 - "$out/fuzz_converter_inputs" <<'PY'
import json, struct, sys
def write(path, tensors):
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    open(path, "wb").write(b"\0" + struct.pack("<Q", len(h)) + h + data)
write(sys.argv[1] + "/weights.safetensors", {
    "embedding": ("F32", [4, 2], struct.pack("<8f", *range(8))),
    "loss.bias": ("F16", [3], struct.pack("<3e", 1.0, -2.0, 0.5)),
    "x": ("BF16", [2], bytes([0x80, 0x3f, 0x00, 0x40])),
    "ids": ("I32", [2], struct.pack("<2i", 7, -1)),
})
PY

# C API: option bytes (max tokens, temperature, top-k, top-p, seed, stop at end, a token) + prompt.
/usr/bin/python3 - "$out/fuzz_c_api" <<'PY'
import struct, sys
for i, (n, temp, k, p, prompt) in enumerate([(12, 0.0, 0, 1.0, "And God said"), (20, 0.8, 40, 0.95, "In the beginning"),
                                              (4, 1.5, 1, 0.1, "\u00e9\U0001F600"), (36, 0.0, 5, 0.5, "")]):
    blob = struct.pack("<BfifQBi", n + 4, temp, k, p, 1234 + i, 1, 5) + prompt.encode()
    open(f"{sys.argv[1]}/prompt{i}", "wb").write(blob)
PY
# trax checkpoints (mode 0: pickle + NPY stream, decompressed), their config.gin (mode 1), a gzip
# stream (mode 2).
/usr/bin/python3 - "$root/tests/data/trax" "$out/fuzz_trax_checkpoint" <<'PY'
import gzip, os, struct, sys
src, out = sys.argv[1], sys.argv[2]
n = 0
for case in ("transformer_lm", "ctlm_scaling_sparse", "terraformer_c4_small"):
    d = os.path.join(src, "generated", case)
    pickle = gzip.open(os.path.join(d, "model.pkl.gz")).read()
    npy = gzip.open(os.path.join(d, "model.weights.npy.gz")).read()
    open(os.path.join(out, case + ".ckpt"), "wb").write(b"\0" + struct.pack("<I", len(pickle)) + pickle + npy)
    old = gzip.open(os.path.join(d, "old", "model.pkl.gz")).read()
    open(os.path.join(out, case + ".old"), "wb").write(b"\0" + struct.pack("<I", len(old)) + old)
    open(os.path.join(out, case + ".gin"), "wb").write(b"\1" + open(os.path.join(d, "config.gin"), "rb").read())
open(os.path.join(out, "weights.gz"), "wb").write(b"\2" + open(os.path.join(src, "generated", "transformer_lm", "model.pkl.gz"), "rb").read())
PY
echo "make_seeds: $(find "$out" -type f | wc -l) seeds in $out"
