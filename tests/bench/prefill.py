"""Turns scripts/bench_prefill.sh's results into the README's prefill section and a chart.

usage: prefill.py RESULTS.jsonl README.md CHART.png
The section between <!-- prefill:begin --> and <!-- prefill:end --> is replaced.
"""
import json
import os
import sys

from readme_section import measured_on, replace_section

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

results_path, readme_path, chart_path = sys.argv[1:4]
rows = [json.loads(line) for line in open(results_path) if line.strip()]
DTYPES = ('f32', 'f16', 'int8', 'int4')


def find(kind, row, dtype, threads, engine):
    for r in rows:
        if (r['kind'], r['row'], r['dtype'], r['threads'], r['engine']) == (kind, row, dtype, threads, engine):
            return r
    return None


lines = [f'{measured_on()} by `scripts/bench_prefill.sh` '
         '(raw results: `docs/perf/prefill-results.jsonl`): `terra bench -m MODEL --threads T --prompt-len 256 '
         '--gen-len 1 --repeat 3 --engine E`, the two engines run one after the other. GFLOP/s count the weight '
         'products of the prompt (2 per multiply-add; attention scores not counted); the FMA peak is the kernel '
         "set's multiply-add burst on the same threads, measured beside each run.", '',
         '| model | dtype | threads | native tok/s | XNNPACK tok/s | XNNPACK / native | XNNPACK GFLOP/s | '
         'of FMA peak (GFLOP/s) | peak RSS MiB (native, XNNPACK) |', '|---|---|---|---|---|---|---|---|---|']
chart = {}
for row in sorted({r['row'] for r in rows if r['kind'] == 'prefill'}):
    for dtype in DTYPES:
        for threads in (1, 2):
            n, x = (find('prefill', row, dtype, threads, e) for e in ('native', 'xnnpack'))
            if not n or not x:
                continue
            gain = x['prefill_tokens_per_s'] / n['prefill_tokens_per_s']
            chart[(row, dtype, threads)] = (n['prefill_tokens_per_s'], x['prefill_tokens_per_s'])
            lines.append(f'| {row} | {dtype} | {threads} | {n["prefill_tokens_per_s"]:.1f} | '
                         f'{x["prefill_tokens_per_s"]:.1f} | {gain:.2f}x | {x["prefill_gflops"]:.1f} | '
                         f'{x["compute_ratio"]:.2f} ({x["fma_peak_gflops"]:.0f}) | '
                         f'{n["peak_rss_mib"]:.0f}, {x["peak_rss_mib"]:.0f} |')
lines += ['', 'Time to first token of a 1024-token prompt, 2 threads (`--prompt-len 1024 --gen-len 1`; median of '
          '3 runs for the shipped model, 1 for the 800M rows):', '',
          '| model | native TTFT ms | XNNPACK TTFT ms | native / XNNPACK |', '|---|---|---|---|']
for row, dtype in (('kjv-sparse', 'int8'), ('800m-baseline', 'f32'), ('800m-sparse-ff-qkv', 'f32')):
    n, x = (find('ttft', row, dtype, 2, e) for e in ('native', 'xnnpack'))
    if n and x:
        lines.append(f'| {row} ({dtype}) | {n["ttft_ms"]:.0f} | {x["ttft_ms"]:.0f} | {n["ttft_ms"] / x["ttft_ms"]:.2f}x |')
lines += ['', f'![prefill tokens/s, native vs XNNPACK]({os.path.relpath(chart_path, os.path.dirname(readme_path) or ".")})']

fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, threads in zip(axes, (1, 2)):
    keys = [k for k in chart if k[2] == threads]
    short = {'800m-baseline': 'baseline', '800m-sparse-ff-qkv': 'sparse\nFF+QKV'}
    labels = [short.get(k[0], k[0]) + '\n' + k[1] for k in keys]
    xs = range(len(keys))
    ax.bar([i - 0.2 for i in xs], [chart[k][0] for k in keys], 0.4, label='native')
    ax.bar([i + 0.2 for i in xs], [chart[k][1] for k in keys], 0.4, label='XNNPACK')
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_title(f'prefill, 256-token prompt, {threads} thread{"s" if threads > 1 else ""}')
    ax.grid(axis='y', alpha=0.3)
axes[0].set_ylabel('prompt tokens / s')
axes[0].legend()
fig.tight_layout()
fig.savefig(chart_path, dpi=110)

replace_section(readme_path, 'prefill', lines)
