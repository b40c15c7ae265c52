"""Write a random-weight Terraformer checkpoint (config.json + model.safetensors, F32).

usage: /usr/bin/python3 models/reference/make_checkpoint.py CONFIG.json OUT_DIR [--seed S]
"""
import argparse
import json

import torch

from terraformer import random_init, save_checkpoint

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument('config')
ap.add_argument('out_dir')
ap.add_argument('--seed', type=int, default=0)
args = ap.parse_args()
torch.set_num_threads(1)
with open(args.config) as fh:
    save_checkpoint(random_init(json.load(fh), args.seed), args.out_dir)
print(f'wrote {args.out_dir}/config.json and {args.out_dir}/model.safetensors (seed {args.seed})')
