"""Reading each golden .terra file back into the reference gives exactly the checkpoint's weights:
the converter's re-layout, undone independently (models/reference/terra_file.py), is lossless.

usage: check_terra_file.py GOLDEN_DIR
"""
import os
import sys

from terra_file import load_terra
from terraformer import load_checkpoint

golden = sys.argv[1]
names = sorted(n for n in os.listdir(golden) if os.path.isdir(os.path.join(golden, n)))
for name in names:
    model, _ = load_terra(os.path.join(golden, name + '.terra'))
    ref = load_checkpoint(os.path.join(golden, name)).state_dict()
    got = model.state_dict()
    if set(got) != set(ref):
        sys.exit(f'{name}: tensor names differ: {sorted(set(got) ^ set(ref))}')
    worst = max((got[k] - ref[k]).abs().max().item() for k in ref)
    if worst != 0.0:
        sys.exit(f'{name}: weights read back from the .terra file differ by {worst}')
    print(f'{name}: {len(ref)} tensors read back exactly')
print(f'{len(names)} model files round-trip')
