"""Greedy decoding of a fixed prompt gives the same tokens in the runtime as in the reference.

usage: check_greedy.py TERRA_BIN MODEL.terra PROMPT N [INPUT]    (PROMPT "-": none; CMake drops "")
The reference (models/reference/greedy.py) re-evaluates the whole sequence at every step from
the weights it reads out of the same .terra file; the runtime decodes with its caches.
"""
import json
import os
import subprocess
import sys

terra, model, prompt, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
prompt = '' if prompt == '-' else prompt
extra = ['--input', sys.argv[5]] if len(sys.argv) > 5 else []
here = os.path.dirname(os.path.abspath(__file__))
reference = os.path.join(here, '..', '..', 'models', 'reference', 'greedy.py')

ref = json.loads(subprocess.run([sys.executable, reference, model, '--prompt', prompt, '-n', n] + extra,
                                check=True, capture_output=True, text=True).stdout)
run = subprocess.run([terra, 'generate', '-m', model, '-p', prompt, '-n', n, '--temperature', '0',
                      '--ignore-eos', '--print-ids'] + extra, check=True, capture_output=True, text=True)
got = json.loads(next(line for line in run.stderr.splitlines() if line.startswith('{')))
print('reference:', ref)
print('runtime:  ', got)
print('runtime text:', run.stdout.strip())
if got != ref:
    sys.exit('greedy tokens differ between the runtime and the reference')
print(f'{len(got["generated"])} greedy tokens equal')
