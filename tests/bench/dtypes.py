"""Turns scripts/bench_dtypes.sh's results into the README's dtype section.

usage: dtypes.py RESULTS.jsonl README.md
The section between <!-- dtypes:begin --> and <!-- dtypes:end --> is replaced.
"""
import json
import sys

from readme_section import measured_on, replace_section

results_path, readme_path = sys.argv[1:3]
rows = [json.loads(line) for line in open(results_path) if line.strip()]
ppl = {r['dtype']: r for r in rows if r['kind'] == 'perplexity'}
bench = [r for r in rows if r['kind'] == 'bench']
mib = lambda b: b / (1 << 20)

lines = [f'{measured_on()} by `scripts/bench_dtypes.sh` '
         '(raw results: `docs/perf/dtypes-results.jsonl`).', '',
         'Quality: `terra perplexity --text models/kjv/corpus/heldout.txt` on the shipped KJV model converted '
         'from its f32 export with `terra-convert --dtype DTYPE` (56,741 held-out tokens).', '',
         '| dtype | file MiB | nats / token | perplexity | vs f32 |', '|---|---|---|---|---|']
base = ppl.get('f32')
for dt in ('f32', 'f16', 'int8', 'int4'):
    if dt not in ppl:
        continue
    r = ppl[dt]
    delta = (r['perplexity'] / base['perplexity'] - 1) * 100 if base else float('nan')
    lines.append(f'| {dt} | {mib(r["file_bytes"]):.2f} | {r["nll_per_token"]:.6f} | {r["perplexity"]:.4f} | {delta:+.3f}% |')
lines += ['', 'Speed: `terra bench --threads N --prompt-len 16 --gen-len 32 --repeat 5` on the 800M rows of Table 1 '
          'synthesized in each dtype (`terra-convert --synthesize ROW --dtype DTYPE`); the ratio is effective / '
          'probe bandwidth, paired per run as in Table 1.', '',
          '| model | dtype | file MiB | MB read / token | ms / token | speedup vs f32 | effective GB/s | probe GB/s | '
          'bandwidth ratio |', '|---|---|---|---|---|---|---|---|---|']
f32_ms = {r['row']: r['ms_per_token'] for r in bench if r['dtype'] == 'f32'}
for r in bench:
    speed = f32_ms[r['row']] / r['ms_per_token'] if r['row'] in f32_ms else float('nan')
    lines.append(f'| {r["row"]} | {r["dtype"]} | {mib(r["file_bytes"]):.0f} | {r["weight_bytes_per_token"] / 1e6:.1f} '
                 f'| {r["ms_per_token"]:.2f} | {speed:.2f}x | {r["effective_gbps"]:.1f} | {r["probe_gbps"]:.1f} '
                 f'| {r["bandwidth_ratio"]:.2f} |')

replace_section(readme_path, 'dtypes', lines, 'Weight dtypes: size, quality, speed')
