"""Golden logits for quantized model files: the float64 reference run with exactly the weights an
int8 / int4 .terra file holds, decoded from its bytes by terra_file.py (an implementation of
docs/model-format.md independent of the runtime's kernels).

usage: golden_quant.py GOLDEN_DIR TAG=MODEL.terra [TAG=MODEL.terra ...]
Reads GOLDEN_DIR/golden.safetensors (tokens, input_tokens) and writes
GOLDEN_DIR/golden_quant.safetensors with logits_TAG, ff_units_TAG.L, encoder_ff_units_TAG.L.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from terra_file import load_terra  # noqa: E402
from terraformer import read_safetensors, write_safetensors  # noqa: E402

golden_dir = sys.argv[1]
torch.set_num_threads(1)
base, _ = read_safetensors(os.path.join(golden_dir, 'golden.safetensors'))
tokens = torch.from_numpy(base['tokens'].astype(np.int64))
inputs = torch.from_numpy(base['input_tokens'].astype(np.int64)) if 'input_tokens' in base else None
out = {}
for arg in sys.argv[2:]:
    tag, path = arg.split('=', 1)
    model, _ = load_terra(path)
    with torch.no_grad():
        logits, units = model(tokens, inputs)
        enc_units = model.encode(inputs)[1] if inputs is not None else {}
    out[f'logits_{tag}'] = logits.numpy().astype(np.float32)
    out.update({f'ff_units_{tag}.{L}': u.numpy().astype(np.int32) for L, u in units.items()})
    out.update({f'encoder_ff_units_{tag}.{L}': u.numpy().astype(np.int32) for L, u in enc_units.items()})
write_safetensors(os.path.join(golden_dir, 'golden_quant.safetensors'), out, {'source': 'golden_quant.py'})
