"""Integer activations (int8/int4 rows against activations rounded per block of 32) keep the
shipped model's perplexity: the trained f32 model is converted to int8 and int4 here, and
`terra perplexity --stepwise` (the decoding path, token by token) is run with
TERRA_ACTIVATIONS=float and =integer on the same text; they must agree within 0.5%, a quarter of
what int4 weights themselves cost this model (+1.7%, README "Weight dtypes").

usage: check_activation_paths.py TERRA_BIN TERRA_CONVERT_BIN MODEL_F32.terra TEXT_FILE
"""
import json
import os
import subprocess
import sys
import tempfile

from terra_file import write_checkpoint

terra, convert, model_path, text = sys.argv[1:5]
TOLERANCE = 5e-3


def perplexity(model, activations):
    env = dict(os.environ, TERRA_ACTIVATIONS=activations)
    out = subprocess.run([terra, 'perplexity', '-m', model, '--text', text, '--stepwise', '--json'],
                         check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out)


failed = False
with tempfile.TemporaryDirectory() as tmp:
    ckpt = os.path.join(tmp, 'ckpt')
    write_checkpoint(model_path, ckpt)
    for dtype in ('int8', 'int4'):
        path = os.path.join(tmp, f'model.{dtype}.terra')
        subprocess.run([convert, ckpt, '-o', path, '--dtype', dtype, '-q'], check=True)
        f, i = perplexity(path, 'float'), perplexity(path, 'integer')
        rel = abs(i['perplexity'] - f['perplexity']) / f['perplexity']
        print(f'{dtype}: float activations {f["perplexity"]:.4f} ({f["nll_per_token"]:.6f} nats/token), '
              f'integer {i["perplexity"]:.4f} ({i["nll_per_token"]:.6f}), {f["tokens"]} tokens: '
              f'differ by {rel:.2e} (tolerance {TOLERANCE:.0e})')
        failed = failed or f['tokens'] != i['tokens'] or rel > TOLERANCE
sys.exit('integer activations moved the perplexity too far' if failed else 0)
