"""Plot the loss curves of training runs (train loss and held-out NLL per token) into one PNG.

usage: /usr/bin/python3 models/trainer/plot.py RUN_DIR [RUN_DIR ...] --out loss_curves.png

Each RUN_DIR holds train_log.csv and eval_log.csv written by train.py; its label is the config's
"name" from RUN_DIR/export/config.json if present, else the directory name. x axis: training tokens.
"""
import argparse
import csv
import json
import os

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('runs', nargs='+')
    ap.add_argument('--out', required=True)
    args = ap.parse_args()
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    colors = ['tab:red', 'tab:blue', 'tab:green', 'tab:orange']
    for run, color in zip(args.runs, colors):
        label = os.path.basename(os.path.normpath(run))
        cfg = os.path.join(run, 'export', 'config.json')
        if os.path.exists(cfg):
            with open(cfg) as fh:
                label = json.load(fh).get('name') or label
        train = read(os.path.join(run, 'train_log.csv'))
        held = read(os.path.join(run, 'eval_log.csv'))
        ax.plot([int(r['tokens_seen']) / 1e6 for r in train], [float(r['train_loss']) for r in train],
                color=color, alpha=0.45, lw=1, label=f'{label} train')
        ax.plot([int(r['tokens_seen']) / 1e6 for r in held], [float(r['heldout_nll']) for r in held],
                color=color, marker='o', ms=3, lw=2,
                label=f'{label} held-out (final {float(held[-1]["heldout_nll"]):.3f})')
    ax.set_xlabel('training tokens (millions)')
    ax.set_ylabel('cross-entropy (nats per token)')
    ax.set_title('KJV Terraformer: sparse (FF + QKV + loss) vs dense, same parameters and tokens')
    ax.set_ylim(top=min(8.0, ax.get_ylim()[1]))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
