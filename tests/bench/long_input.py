"""Turns scripts/bench_long_input.sh's results into the README's long-input section and a chart.

usage: long_input.py RESULTS.jsonl README.md CHART.png
The section between <!-- long-input:begin --> and <!-- long-input:end --> is replaced.
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
LABEL = {'sci-papers-lsh': 'LSH attention', 'sci-papers-dense': 'dense attention'}

lines = [f'{measured_on()} by `scripts/bench_long_input.sh` (raw results: `docs/perf/long-input-results.jsonl`): '
         '`terra bench -m MODEL --threads T --input-len N --prompt-len 1 --gen-len 16 --repeat 1 --warmup 0 '
         '--no-probe`, one process per input. MODEL is `terra-convert --synthesize sci-papers-lsh` (or '
         '`sci-papers-dense`): the shape of trax\'s `scientific_papers_terraformer.gin`, f32 random weights. '
         '"Input processed" is the encoder plus the decoder\'s first call over the encoder\'s rows and the start '
         'token (the time to the first token); "arena" is what the session planned; peak RSS includes the '
         'mapped weights.', '',
         '| attention | input tokens | threads | encoder ms | input processed ms | input tokens/s | '
         'decode ms/token | arena MiB | peak RSS MiB |', '|---|---|---|---|---|---|---|---|---|']
series = {}
for r in sorted(rows, key=lambda r: (r['row'], r['input_len'])):
    label = LABEL.get(r['row'], r['row'])
    series.setdefault(label, []).append(r)
    lines.append(f'| {label} | {r["input_len"]} | {r["threads"]} | {r["encode_ms"]:.0f} | {r["ttft_ms"]:.0f} | '
                 f'{r["input_len"] / r["ttft_ms"] * 1e3:.0f} | {r["ms_per_token"]:.1f} | {r["arena_mib"]:.0f} | '
                 f'{r["peak_rss_mib"]:.0f} |')
lines += ['', f'![peak memory and time to the first token against input length]'
          f'({os.path.relpath(chart_path, os.path.dirname(readme_path) or ".")})']

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for label, rs in series.items():
    xs = [r['input_len'] for r in rs]
    axes[0].plot(xs, [r['peak_rss_mib'] for r in rs], 'o-', label=label)
    axes[1].plot(xs, [r['ttft_ms'] / 1e3 for r in rs], 'o-', label=label)
for ax, title, unit in ((axes[0], 'peak RSS', 'MiB'), (axes[1], 'input processed (time to first token)', 's')):
    ax.set_xscale('log', base=2)
    ax.set_xlabel('input tokens')
    ax.set_ylabel(unit)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
fig.tight_layout()
fig.savefig(chart_path, dpi=110)

replace_section(readme_path, 'long-input', lines, heading='Long inputs')
