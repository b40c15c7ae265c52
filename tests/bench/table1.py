"""Turns scripts/bench_table1.sh's results into the README's Table 1 section and a PNG chart.

usage: table1.py RESULTS.jsonl README.md CHART.png
The section between the markers <!-- table1:begin --> and <!-- table1:end --> is replaced.
"""
import json
import os
import sys

from readme_section import measured_on, replace_section

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

PAPER = {  # seconds per token, paper Table 1 (CPU)
    '800m-baseline': 0.160, '800m-sparse-ff': 0.093, '800m-sparse-qkv': 0.152, '800m-sparse-ff-qkv': 0.061,
    '17b-slice-baseline': 3.690, '17b-slice-sparse-ff': 1.595, '17b-slice-sparse-qkv': 3.154,
    '17b-slice-sparse-ff-qkv': 0.183,
}

results_path, readme_path, chart_path = sys.argv[1:4]
rows = [json.loads(line) for line in open(results_path) if line.strip()]
# Speedups are against the baseline of the same family at the same thread count.
base = {(r['row'].split('-')[0], r['threads']): r for r in rows if r['row'].endswith('baseline')}
threads = sorted({r['threads'] for r in rows})

lines = [
    f'{measured_on()}, '
    f'`scripts/bench_table1.sh` (`terra bench --threads T --prompt-len {rows[0]["prompt_len"]} '
    f'--gen-len {rows[0]["gen_len"]} --repeat {rows[0]["repeat"]}` on each preset synthesized by '
    f'`terra-convert --synthesize NAME`; random weights of the published shapes; T = {" and ".join(map(str, threads))}). One untimed warm-up run, '
    'then 5 timed runs; before each, the bandwidth probe (a SIMD sum over 1 GiB, best of 3 passes, same threads) '
    'is read, and the bandwidth ratio is the median over runs of effective / probe GB/s, because this machine\'s '
    f'bandwidth drifts from minute to minute (the probes of this run read {min(r["probe_gbps"] for r in rows):.0f}-'
    f'{max(r["probe_gbps"] for r in rows):.0f} GB/s; the median of each run\'s probe is in the table). '
    'Raw results: `docs/perf/table1-results.jsonl`.',
    '',
    '| model | dtype | threads | MB read / token | ms / token (median) | speedup vs baseline | paper s / token | paper speedup '
    '| effective GB/s | probe GB/s | bandwidth ratio | floor ms / token | of floor |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
]
for r in sorted(rows, key=lambda r: (r['threads'], rows.index(r))):
    family = r['row'].split('-')[0]
    b = base.get((family, r['threads']))
    ms = r['ms_per_token']
    speedup = b['ms_per_token'] / ms if b else float('nan')
    paper = PAPER.get(r['row'])  # the sparse-all rows (with a sparse loss) have no paper column
    paper_speedup = PAPER[f'{family}-baseline' if family == '800m' else '17b-slice-baseline'] / paper if paper else None
    paper_s = f'{paper:.3f}' if paper else '-'
    paper_x = f'{paper_speedup:.2f}x' if paper_speedup else '-'
    floor_ms = r['weight_bytes_per_token'] / (r['probe_gbps'] * 1e9) * 1e3 if r['probe_gbps'] else float('nan')
    lines.append(f'| {r["row"]} | {r["dtype"]} | {r["threads"]} | {r["weight_bytes_per_token"] / 1e6:.1f} | {ms:.2f} | {speedup:.2f}x '
                 f'| {paper_s} | {paper_x} | {r["effective_gbps"]:.1f} | {r["probe_gbps"]:.1f} '
                 f'| {r["bandwidth_ratio"]:.2f} | {floor_ms:.2f} | {floor_ms / ms:.0%} |')
lines += ['', f'![Table 1 measured here]({os.path.relpath(chart_path, os.path.dirname(readme_path) or ".")})']

fig, ax = plt.subplots(figsize=(9, 4.5))
names = list(dict.fromkeys(r['row'] for r in rows))
width = 0.8 / len(threads)
for k, t in enumerate(threads):
    ms = {r['row']: r['ms_per_token'] for r in rows if r['threads'] == t}
    xs = [i + (k - (len(threads) - 1) / 2) * width for i in range(len(names))]
    ax.bar(xs, [ms.get(n, 0) for n in names], width, label=f'{t} thread{"s" if t > 1 else ""}')
ax.set_xticks(range(len(names)))
ax.set_xticklabels(names)
ax.set_yscale('log')
ax.set_ylabel('ms per token (log)')
ax.set_title('terra: batch-1 decoding, paper Table 1 shapes')
ax.legend()
plt.setp(ax.get_xticklabels(), rotation=30, ha='right')
fig.tight_layout()
fig.savefig(chart_path, dpi=110)

replace_section(readme_path, 'table1', lines, "Performance: the paper's Table 1")
