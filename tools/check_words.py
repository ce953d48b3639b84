#!/usr/bin/env python
"""Words that must not reach the package's readers: fail, listing file:line, when a git-tracked file contains one.

    python tools/check_words.py            # every tracked file outside .ci/
    python tools/check_words.py FILE ...   # only these files

The text of the package (notebooks, README, docstrings, CLI help, plot titles) is written for its users: it says what
the code does and what was measured where, and cites papers and public code. It does not point at working notes or
files that ship with no checkout, nor talk about how the work was organised. The patterns are matched case-insensitively.
Skipped: `ski_tnn/_modidx.py` (nbdev's generated index). Binary files (the gzip-compressed corpora) are
skipped too.
"""
from __future__ import annotations
import re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Each word's last letter is written as a one-letter class, so that this file does not contain the words it looks for.
PATTERNS = [r'shared/referenc[e]', r'\.\./share[d]', r'main jo[b]', r'design car[d]', r'the issu[e]', r'this issu[e]',
            r'the sessio[n]', r'session tha[t]', r'was len[t]', r'were len[t]', r'ski_tnn\.m[d]', r'ntfs_lra\.m[d]', r'perf\.m[d]',
            r'nbdev_fastai\.m[d]']
WORDS = re.compile('|'.join(PATTERNS), re.I)
SKIP = {'ski_tnn/_modidx.py'}   # this file is checked too: its patterns do not spell the words


def tracked() -> list[str]:
    out = subprocess.run(['git', 'ls-files', '-z'], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [f for f in out.split('\0') if f and not f.startswith('.ci/') and f not in SKIP]



def hits(path: str) -> list[str]:
    "`path:line: text` for every line of `path` with one of the words (binary files are skipped)."
    try: text = (ROOT / path).read_bytes()
    except (FileNotFoundError, IsADirectoryError): return []
    if b'\0' in text[:8192]: return []
    lines = text.decode('utf-8', errors='replace').splitlines()
    return [f"{path}:{i}: {l.strip()[:160]}" for i, l in enumerate(lines, 1) if WORDS.search(l)]


def main(argv: list[str]) -> int:
    files = argv or tracked()
    found = [h for f in files for h in hits(f)]
    if found:
        print(f"words: {len(found)} line(s) with words meant for no reader ({'|'.join(PATTERNS)}):", file=sys.stderr)
        print('\n'.join('  ' + h for h in found), file=sys.stderr)
        return 1
    print(f"words: {len(files)} files, none of the forbidden words")
    return 0


if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
