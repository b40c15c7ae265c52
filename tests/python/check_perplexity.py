"""`terra perplexity` agrees with the PyTorch evaluation (models/trainer/evaluate.py) of the same
checkpoint on the same text, to 0.1% of the perplexity.

usage: check_perplexity.py TERRA_BIN MODEL.terra TEXT_FILE WINDOW
The checkpoint is written from the .terra file itself (models/reference/terra_file.py), so both
sides evaluate exactly the same weights and tokenizer.
"""
import json
import os
import subprocess
import sys
import tempfile

from terra_file import write_checkpoint

terra, model_path, text, window = sys.argv[1:5]
here = os.path.dirname(os.path.abspath(__file__))
evaluate = os.path.join(here, '..', '..', 'models', 'trainer', 'evaluate.py')

with tempfile.TemporaryDirectory() as ckpt:
    write_checkpoint(model_path, ckpt)
    ref = json.loads(subprocess.run([sys.executable, evaluate, ckpt, '--text', text, '--window', window],
                                    check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
got = json.loads(subprocess.run([terra, 'perplexity', '-m', model_path, '--text', text, '--window', window, '--json'],
                                check=True, capture_output=True, text=True).stdout)
print('reference (PyTorch):', ref)
print('runtime:            ', got)
if got['tokens'] != ref['tokens']:
    sys.exit(f'token counts differ: runtime {got["tokens"]}, reference {ref["tokens"]}')
rel = abs(got['perplexity'] - ref['perplexity']) / ref['perplexity']
print(f'perplexity differs by {rel:.2e} (tolerance 1e-3)')
if rel > 1e-3:
    sys.exit('perplexities disagree')
