#!/usr/bin/env bash
# CTest fixture: for every config in tests/golden/configs, the PyTorch reference writes a random
# checkpoint and its float64 logits (golden.safetensors); terra-convert packs the checkpoint in
# f32, f16, int8 and int4; golden_quant.py runs the reference on the int8/int4 files' own weights.
# The Catch2 golden tests then compare the runtime against these.
set -euo pipefail
src_dir=$1 out_dir=$2 convert=$3
mkdir -p "$out_dir"
for cfg in "$src_dir"/tests/golden/configs/*.json; do
  name=$(basename "$cfg" .json)
  /usr/bin/python3 "$src_dir/models/reference/golden.py" --config "$cfg" --out "$out_dir/$name" --seed 7 >/dev/null
  "$convert" -q "$out_dir/$name" -o "$out_dir/$name.terra"
  "$convert" -q "$out_dir/$name" -o "$out_dir/$name.f16.terra" --dtype f16
  "$convert" -q "$out_dir/$name" -o "$out_dir/$name.int8.terra" --dtype int8
  "$convert" -q "$out_dir/$name" -o "$out_dir/$name.int4.terra" --dtype int4
  /usr/bin/python3 "$src_dir/models/reference/golden_quant.py" "$out_dir/$name" \
    int8="$out_dir/$name.int8.terra" int4="$out_dir/$name.int4.terra"
  echo "golden: $name"
done
