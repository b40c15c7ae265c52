"""Turns scripts/bench_under_load.sh's results into the README's under-load section.

usage: under_load.py RESULTS.jsonl README.md
The section between <!-- load:begin --> and <!-- load:end --> is replaced.
"""
import json
import os
import sys

from readme_section import measured_on, replace_section

results_path, readme_path = sys.argv[1:3]
rows = [json.loads(line) for line in open(results_path) if line.strip()]
ms = {(r['load'], r['row'], r['threads']): r for r in rows}
lines = [f'{measured_on()} by `scripts/bench_under_load.sh` '
         '(raw results: `docs/perf/under-load-results.jsonl`): `terra bench --prompt-len 16 --gen-len 32 --repeat 3`, '
         f'quiet, then with {os.cpu_count()} busy loops (`setsid nice -n 19 sh -c "while :; do :; done"`, one per core). '
         '"Alone" counts the periods in which the pool found its calling thread short of a core and ran without '
         'its workers.', '',
         '| model (f32) | quiet, 1 thread ms/token | quiet, 2 threads | busy, 1 thread | busy, 2 threads | '
         'busy 2 / busy 1 | busy 2 / quiet 2 | alone (busy, 2 threads) |', '|---|---|---|---|---|---|---|---|']
for row in sorted({r['row'] for r in rows}):
    q1, q2, b1, b2 = (ms.get(k) for k in (('quiet', row, 1), ('quiet', row, 2), ('busy', row, 1), ('busy', row, 2)))
    if not all((q1, q2, b1, b2)):
        continue
    lines.append(f'| {row} | {q1["ms_per_token"]:.1f} | {q2["ms_per_token"]:.1f} | {b1["ms_per_token"]:.1f} | '
                 f'{b2["ms_per_token"]:.1f} | {b2["ms_per_token"] / b1["ms_per_token"]:.2f} | '
                 f'{b2["ms_per_token"] / q2["ms_per_token"]:.2f} | {b2.get("solo_periods", 0)} |')
replace_section(readme_path, 'load', lines)
