"""The man-page summarization corpus: each English manual page installed by a Debian package
becomes one example, the whole page as plain text as the input and the one-line description of its
NAME section as the target ("ls \\- list directory contents" gives "list directory contents").
The page's NAME section stays in the input (the task is the issue's "whole page -> its NAME
description"), so a model can find the answer there; --no-name takes it out (the harder task, for
measuring what a model infers from the rest of the page).

usage: /usr/bin/python3 models/summarizer/make_corpus.py OUT_DIR [--packages PKG ... | --all-installed]
           [--no-name]
       /usr/bin/python3 models/summarizer/make_corpus.py --page PAGE.gz [--bytes N] [--no-name]
           (prints one page's input text, as the summarizer reads it: its first N bytes, default 1500,
           a little more than the 384 tokens of the summarizer's training inputs)

--all-installed: every page under /usr/share/man/man[1-9] owned by an installed package (the owners
come from dpkg's file lists), except EXCLUDED packages' (google-cloud-cli's 16,000 generated
`gcloud` pages would be most of the corpus); a page whose text equals an earlier page's (the
same page under a cross-toolchain's name, ...) is kept once. OUT_DIR/packages.txt lists the
packages and how many pages each gave, so the corpus can be rebuilt from the same list.

Pages that are only a `.so` link to another page are skipped, and so are pages whose NAME line has
no " \\- " description. The roff is turned into plain text by a small stripper (requests and font
escapes removed, common escapes mapped), not by groff: the model reads the words, not the layout.
Split by page: a page goes to heldout when the first byte of the SHA-256 of its file name is
below 26 (about 10%), otherwise to train; so the split does not change when pages are added.
Writes OUT_DIR/train.jsonl and OUT_DIR/heldout.jsonl: {"page", "input", "target"} per line.
"""
import argparse
import collections
import gzip
import hashlib
import json
import os
import re
import subprocess
import sys

PACKAGES = ['manpages', 'manpages-dev', 'coreutils', 'util-linux', 'findutils', 'grep', 'sed', 'tar', 'gzip',
            'bash', 'procps', 'dpkg', 'apt', 'login', 'passwd', 'mount', 'diffutils']
EXCLUDED = ('google-cloud-cli', 'google-cloud-sdk')
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


def parse(text, keep_name=True):
    """-> (description, the page as plain text (without its NAME section unless keep_name)) or None."""
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
        if title == 'NAME' and not keep_name:
            continue
        body.append(title)
        body.extend(plain(l) for l in content)
    rest = re.sub(r'[ \t]+', ' ', '\n'.join(l for l in body if l.strip()))
    return target, rest.strip()


def installed_pages():
    """-> {page path: owning package} for every installed package's man pages, EXCLUDED's left out."""
    owner = {}
    info = '/var/lib/dpkg/info'
    for name in sorted(os.listdir(info)):
        if not name.endswith('.list'):
            continue
        package = name[:-len('.list')].split(':')[0]
        if package.startswith(EXCLUDED):
            continue
        with open(os.path.join(info, name), encoding='utf-8', errors='replace') as fh:
            for line in fh:
                path = line.rstrip('\n')
                if re.match(r'^/usr/share/man/man\d/', path):
                    owner[path] = package
    return owner


def package_pages(packages):
    """-> {page path: owning package} for the named packages' man pages."""
    owner = {}
    for package in packages:
        for path in subprocess.run(['dpkg', '-L', package], check=True, capture_output=True, text=True).stdout.split():
            if re.match(r'^/usr/share/man/man\d/', path):
                owner[path] = package
    return owner


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('out', nargs='?')
    ap.add_argument('--packages', nargs='+', default=PACKAGES)
    ap.add_argument('--all-installed', action='store_true', help='every installed package\'s pages')
    ap.add_argument('--no-name', action='store_true', help='leave the NAME section out of the input')
    ap.add_argument('--page', help='print this page\'s input text and exit')
    ap.add_argument('--bytes', type=int, default=1500, help='--page: at most this many bytes (whole characters)')
    args = ap.parse_args()
    keep_name = not args.no_name
    if args.page:
        opener = gzip.open if args.page.endswith('.gz') else open
        with opener(args.page, 'rt', encoding='utf-8', errors='replace') as fh:
            got = parse(fh.read(), keep_name)
        if got is None:
            raise SystemExit(f'{args.page}: no NAME section with a description (or a .so link)')
        sys.stdout.write(got[1].encode('utf-8')[:args.bytes].decode('utf-8', errors='ignore') + '\n')
        return
    if not args.out:
        ap.error('give OUT_DIR or --page')
    owner = installed_pages() if args.all_installed else package_pages(args.packages)
    pages = sorted(f for f in owner if f.endswith('.gz') and os.path.isfile(f) and not os.path.islink(f))
    os.makedirs(args.out, exist_ok=True)
    counts = {'train': 0, 'heldout': 0, 'skipped': 0, 'duplicate': 0}
    seen, per_package = set(), collections.Counter()
    with open(os.path.join(args.out, 'train.jsonl'), 'w') as train, \
            open(os.path.join(args.out, 'heldout.jsonl'), 'w') as held:
        for path in pages:
            with gzip.open(path, 'rt', encoding='utf-8', errors='replace') as fh:
                got = parse(fh.read(), keep_name)
            if got is None:
                counts['skipped'] += 1
                continue
            digest = hashlib.sha256(got[1].encode()).digest()
            if digest in seen:
                counts['duplicate'] += 1
                continue
            seen.add(digest)
            name = os.path.basename(path)[:-3]
            split = 'heldout' if hashlib.sha256(name.encode()).digest()[0] < 26 else 'train'
            (held if split == 'heldout' else train).write(
                json.dumps({'page': name, 'input': got[1], 'target': got[0]}, ensure_ascii=False) + '\n')
            counts[split] += 1
            per_package[owner[path]] += 1
    with open(os.path.join(args.out, 'packages.txt'), 'w') as fh:
        fh.writelines(f'{package} {n}\n' for package, n in sorted(per_package.items()))
    print(f'{len(pages)} pages from {len(per_package)} packages: {counts}')


if __name__ == '__main__':
    main()
