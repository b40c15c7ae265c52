"""The man-page summarization corpus: each English page of Debian's `manpages` and `manpages-dev`
packages (the Linux man-pages project) and of the base system's packages (coreutils, util-linux,
...; PACKAGES below) becomes one example, its text without the NAME section as the input
and the one-line description of its NAME section as the target ("ls \\- list directory contents"
gives "list directory contents").

usage: /usr/bin/python3 models/summarizer/make_corpus.py OUT_DIR [--packages PKG ...]
       /usr/bin/python3 models/summarizer/make_corpus.py --page PAGE.gz [--bytes N]
           (prints one page's input text, as the summarizer reads it: its first N bytes, default 640,
           about the 384 tokens of the summarizer's training inputs)

Pages that are only a `.so` link to another page are skipped, and so are pages whose NAME line has
no " \\- " description. The roff is turned into plain text by a small stripper (requests and font
escapes removed, common escapes mapped), not by groff: the model reads the words, not the layout.
Split by page: a page goes to heldout when the first byte of the SHA-256 of its file name is
below 26 (about 10%), otherwise to train; so the split does not change when pages are added.
Writes OUT_DIR/train.jsonl and OUT_DIR/heldout.jsonl: {"page", "input", "target"} per line.
"""
import argparse
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys

PACKAGES = ['manpages', 'manpages-dev', 'coreutils', 'util-linux', 'findutils', 'grep', 'sed', 'tar', 'gzip',
            'bash', 'procps', 'dpkg', 'apt', 'login', 'passwd', 'mount', 'diffutils']
ESCAPES = [('\\-', '-'), ('\\(em', '--'), ('\\(en', '-'), ('\\(aq', "'"), ('\\(dq', '"'),
           ('\\(lq', '"'), ('\\(rq', '"'), ('\\(bu', '*'), ('\\(co', '(c)'), ('\\e', '\\'),
           ('\\~', ' '), ('\\ ', ' '), ('\\&', ''), ('\\%', ''), ('\\:', ''), ('\\|', ''),
           ('\\^', ''), ('\\0', ' '), ('\\c', '')]  # (plain strings)


def plain(line):
    """One roff line as text: font escapes dropped, a request's arguments kept (.B foo -> foo)."""
    if line.startswith(('.\\"', "'\\\"", '.\\}', '.ig', '.de')):
        return ''
    if line.startswith(('.', "'")):
        parts = line[1:].split(None, 1)
        request = parts[0] if parts else ''
        if request in ('B', 'I', 'BI', 'IB', 'BR', 'RB', 'IR', 'RI', 'SM', 'SB', 'SH', 'SS', 'TP', 'IP', 'UR',
                       'MT', 'OP', 'TQ') and len(parts) > 1:
            line = parts[1].replace('"', '')
        else:
            return ''
    line = re.sub(r'\\f(\[[^\]]*\]|\(..|.)', '', line)
    line = re.sub(r'\\s[-+]?\d', '', line)
    for escape, text in ESCAPES:
        line = line.replace(escape, text)
    line = re.sub(r'\\\*(\[[^\]]*\]|\(..|.)', '', line)
    line = re.sub(r'\\\((..)', '', line)
    return line


def parse(text):
    """-> (description, the rest as plain text) or None."""
    lines = text.splitlines()
    if any(l.startswith('.so ') for l in lines[:20]) and not any(l.startswith('.SH') for l in lines):
        return None
    sections, current = [], None
    for line in lines:
        m = re.match(r'^\.SH\s+"?([^"]*)"?', line)
        if m:
            current = [m.group(1).strip().upper(), []]
            sections.append(current)
        elif current is not None:
            current[1].append(line)
    name = [s for s in sections if s[0] == 'NAME']
    if not name:
        return None
    name_text = ' '.join(plain(l) for l in name[0][1]).strip()
    m = re.search(r'\s-+\s+(.*)$', name_text)
    if not m or not m.group(1).strip():
        return None
    target = re.sub(r'\s+', ' ', m.group(1)).strip()
    body = []
    for title, content in sections:
        if title == 'NAME':
            continue
        body.append(title)
        body.extend(plain(l) for l in content)
    rest = re.sub(r'[ \t]+', ' ', '\n'.join(l for l in body if l.strip()))
    return target, rest.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('out', nargs='?')
    ap.add_argument('--packages', nargs='+', default=PACKAGES)
    ap.add_argument('--page', help='print this page\'s input text and exit')
    ap.add_argument('--bytes', type=int, default=640, help='--page: at most this many bytes (whole characters)')
    args = ap.parse_args()
    if args.page:
        opener = gzip.open if args.page.endswith('.gz') else open
        with opener(args.page, 'rt', encoding='utf-8', errors='replace') as fh:
            got = parse(fh.read())
        if got is None:
            raise SystemExit(f'{args.page}: no NAME section with a description (or a .so link)')
        sys.stdout.write(got[1].encode('utf-8')[:args.bytes].decode('utf-8', errors='ignore'))
        return
    if not args.out:
        ap.error('give OUT_DIR or --page')
    files = subprocess.run(['dpkg', '-L'] + args.packages, check=True, capture_output=True, text=True).stdout.split()
    pages = sorted(f for f in files if re.match(r'^/usr/share/man/man\d/', f) and f.endswith('.gz')
                   and not os.path.islink(f))
    os.makedirs(args.out, exist_ok=True)
    counts = {'train': 0, 'heldout': 0, 'skipped': 0}
    with open(os.path.join(args.out, 'train.jsonl'), 'w') as train, \
            open(os.path.join(args.out, 'heldout.jsonl'), 'w') as held:
        for path in pages:
            with gzip.open(path, 'rt', encoding='utf-8', errors='replace') as fh:
                got = parse(fh.read())
            if got is None:
                counts['skipped'] += 1
                continue
            name = os.path.basename(path)[:-3]
            split = 'heldout' if hashlib.sha256(name.encode()).digest()[0] < 26 else 'train'
            (held if split == 'heldout' else train).write(
                json.dumps({'page': name, 'input': got[1], 'target': got[0]}, ensure_ascii=False) + '\n')
            counts[split] += 1
    print(f'{len(pages)} pages: {counts}')


if __name__ == '__main__':
    main()
