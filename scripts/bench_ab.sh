#!/usr/bin/env bash
# Two builds of terra side by side on the same model files, runs interleaved (A B A B ...) so the
# machine's drifting bandwidth hits both alike: a refactor's "no slower" shown, not assumed.
#   scripts/bench_ab.sh OLD_TERRA NEW_TERRA ROUNDS THREADS MODEL...
# Prints per model each build's median decode ms/token and prefill tokens/s over the rounds (each
# round's figure is `terra bench --repeat 5`'s) and NEW/OLD.
set -euo pipefail
old=$1 new=$2 rounds=$3 threads=$4
shift 4
for model in "$@"; do
  a=() b=()
  for ((r = 0; r < rounds; ++r)); do
    for which in old new; do
      bin=$old
      [[ $which == new ]] && bin=$new
      ms=$("$bin" bench -m "$model" --threads "$threads" --prompt-len 16 --gen-len 32 --repeat 5 --json |
        python3 -c 'import json,sys; r=json.load(sys.stdin); print("%s/%s" % (r["ms_per_token"], r["prefill_tokens_per_s"]))')
      if [[ $which == old ]]; then a+=("$ms"); else b+=("$ms"); fi
    done
  done
  python3 - "$model" "${#a[@]}" "${a[@]}" "${b[@]}" <<'PY'
import statistics, sys
model, n = sys.argv[1], int(sys.argv[2])
a = [[float(v) for v in x.split('/')] for x in sys.argv[3:3 + n]]
b = [[float(v) for v in x.split('/')] for x in sys.argv[3 + n:]]
for k, (what, unit) in enumerate([('decode', 'ms/token'), ('prefill', 'tokens/s')]):
    ra, rb = [x[k] for x in a], [x[k] for x in b]
    ma, mb = statistics.median(ra), statistics.median(rb)
    print(f"{model} {what}: old {ma:.2f} {unit}, new {mb:.2f} {unit}, new/old {mb / ma:.3f} "
          f"(old {', '.join(f'{x:.2f}' for x in ra)}; new {', '.join(f'{x:.2f}' for x in rb)})")
PY
done
