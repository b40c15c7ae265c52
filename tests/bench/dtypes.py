"""Turns scripts/bench_dtypes.sh's results into the README's dtype section.

usage: dtypes.py RESULTS.jsonl README.md
The section between <!-- dtypes:begin --> and <!-- dtypes:end --> is replaced.
"""
import json
import sys

from readme_section import measured_on, replace_section

results_path, readme_path = sys.argv[1:3]
rows = [json.loads(line) for line in open(results_path) if line.strip()]
ppl = {(r.get('how', 'scored'), r['dtype']): r for r in rows if r['kind'] == 'perplexity'}
bench = [r for r in rows if r['kind'] == 'bench']
mib = lambda b: b / (1 << 20)

lines = [f'{measured_on()} by `scripts/bench_dtypes.sh` '
         '(raw results: `docs/perf/dtypes-results.jsonl`).', '',
         'Quality: held-out perplexity of the shipped KJV model converted from its f32 weights with '
         '`terra-convert --dtype DTYPE`: scored in blocks (`terra perplexity --text models/kjv/corpus/heldout.txt`, '
         'float activations throughout) and token by token as decoding runs (`--stepwise`: int4 rows meet '
         'integer activations there).', '',
         '| dtype | file MiB | tokens | nats / token | perplexity | vs f32 | decoding: nats / token | perplexity | vs f32 |',
         '|---|---|---|---|---|---|---|---|---|']


def vs_f32(how, dt):
    base, r = ppl.get((how, 'f32')), ppl.get((how, dt))
    return (r['perplexity'] / base['perplexity'] - 1) * 100 if base and r else float('nan')


for dt in ('f32', 'f16', 'int8', 'int4'):
    r, d = ppl.get(('scored', dt)), ppl.get(('stepwise', dt))
    if r is None:
        continue
    cells = f'| {dt} | {mib(r["file_bytes"]):.2f} | {r["tokens"]:,} | {r["nll_per_token"]:.6f} | {r["perplexity"]:.4f} | {vs_f32("scored", dt):+.3f}% |'
    cells += f' {d["nll_per_token"]:.6f} | {d["perplexity"]:.4f} | {vs_f32("stepwise", dt):+.3f}% |' if d else ' | | |'
    lines.append(cells)
lines += ['', 'Speed: `terra bench --threads N --prompt-len 16 --gen-len 32 --repeat 5` on the 800M rows of Table 1 '
          'synthesized in each dtype (`terra-convert --synthesize ROW --dtype DTYPE`); the ratio is the median over '
          'runs of effective / probe bandwidth, each run paired with the probe read just before it.', '',
          '| model | threads | dtype | file MiB | MB read / token | ms / token | speedup vs f32 | effective GB/s | '
          'probe GB/s | bandwidth ratio |', '|---|---|---|---|---|---|---|---|---|---|']
f32_ms = {(r['row'], r['threads']): r['ms_per_token'] for r in bench if r['dtype'] == 'f32'}
for r in sorted(bench, key=lambda r: (r['row'], r['threads'])):
    key = (r['row'], r['threads'])
    speed = f32_ms[key] / r['ms_per_token'] if key in f32_ms else float('nan')
    lines.append(f'| {r["row"]} | {r["threads"]} | {r["dtype"]} | {mib(r["file_bytes"]):.0f} '
                 f'| {r["weight_bytes_per_token"] / 1e6:.1f} | {r["ms_per_token"]:.2f} | {speed:.2f}x '
                 f'| {r["effective_gbps"]:.1f} | {r["probe_gbps"]:.1f} | {r["bandwidth_ratio"]:.2f} |')

replace_section(readme_path, 'dtypes', lines, 'Weight dtypes: size, quality, speed')
