#!/usr/bin/env python
"""Time `tokenize_to_file` on a large corpus of distinct text, for the byte tokenizer and a byte-level BPE.

    python tools/bench_tokenize.py [--mb 100] [--small-mb 10] [--out nbs/results/tokenize_cpu.json]

The corpus is sampled from a word-level Markov chain (order 1, seeded) fitted on the excerpts shipped in `corpora/`, so
that its lines are new text rather than one file repeated (a repeated file would let the tokenizer's caches make BPE look
faster than it is on real data). It is written to a temporary folder and read back as a stream of lines, as a training
run reads its corpus. Each measurement runs in a fresh process that reports its wall time and its peak resident memory;
a small and a large corpus show whether the memory grows with the corpus. The BPE (8192 ids, the training default) is
trained on the shipped excerpts. The per-line encoding of earlier versions is timed on the small corpus for comparison.
Each run also records its CPU time (user and system, all threads) and the machine's 1-minute load average: on a shared
machine the wall time depends on the other processes, MB per CPU-second much less.
"""
from __future__ import annotations
import argparse, gzip, json, os, platform, re, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CORPORA = [ROOT / 'corpora/tinyshakespeare/input.txt.gz', ROOT / 'corpora/wikitext-2/valid.txt.gz']


def markov_corpus(path: Path, mb: float, seed: int = 0, chains: int = 4096) -> int:
    "Write about `mb` MB of text sampled from an order-1 word Markov chain fitted on `CORPORA` (newlines are words); its size."
    words = [w for f in CORPORA for w in re.findall(r'[^\s]+|\n', gzip.decompress(f.read_bytes()).decode('utf-8'))]
    vocab, ids = np.unique(np.array(words, dtype=object), return_inverse=True)
    order = np.argsort(ids[:-1], kind='stable')                   # successors grouped by their predecessor
    succ, counts = ids[1:][order], np.bincount(ids[:-1], minlength=len(vocab))
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    counts[counts == 0] = 1; succ = np.append(succ, ids[0])     # the last word, never followed: continue with the first
    start[np.bincount(ids[:-1], minlength=len(vocab)) == 0] = len(succ) - 1
    rng = np.random.default_rng(seed)
    text = [str(w) for w in vocab]
    avg = sum(map(len, words)) / len(words) + 1
    steps = int(1.1 * mb * 1e6 / avg / chains) + 1           # a little more than needed: the text stops at `mb`
    state, walks = rng.integers(0, len(vocab), chains), np.empty((steps, chains), dtype=np.int64)
    for t in range(steps):
        state = succ[start[state] + (rng.random(chains) * counts[state]).astype(np.int64)]; walks[t] = state
    size = 0
    with open(path, 'w', encoding='utf-8', newline='') as f:
        for c in range(chains):
            s = ' '.join(text[i] for i in walks[:, c]).replace(' \n ', '\n').replace('\n ', '\n')
            f.write(s + '\n'); size += len(s.encode('utf-8')) + 1
            if size >= mb * 1e6: break
    return size


CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from ski_tnn.data.text import ByteTokenizer, load_tokenizer, tokenize_to_file, token_dtype
import numpy as np
corpus, kind, tok_path, out, legacy = sys.argv[1:]
tok = ByteTokenizer() if kind == 'byte' else load_tokenizer(tok_path)
import resource as _r; c0 = _r.getrusage(_r.RUSAGE_SELF); c0 = c0.ru_utime + c0.ru_stime
t0 = time.perf_counter()
with open(corpus, encoding='utf-8', newline='') as f:
    if legacy == '1':                                    # the per-line encoding of earlier versions
        ids = np.array([t for l in f for t in tok.encode(l)], dtype=token_dtype(tok.vocab_size)); Path(out).write_bytes(ids.tobytes())
    else: tokenize_to_file(f, tok, out, progress=False)
dt = time.perf_counter() - t0
r = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({'seconds': dt, 'cpu_seconds': r.ru_utime + r.ru_stime - c0, 'peak_rss_mb': r.ru_maxrss / 1024}))
"""


def measure(corpus: Path, kind: str, tok_path: Path, out: Path, legacy: bool = False) -> dict:
    "Tokenize `corpus` in a fresh process; its time, speed and peak memory."
    res = subprocess.run([sys.executable, '-c', CHILD, str(corpus), kind, str(tok_path), str(out), '1' if legacy else '0'],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    r = json.loads(res.stdout.strip().splitlines()[-1])
    mb = corpus.stat().st_size / 1e6
    return {'corpus_mb': round(mb, 1), 'seconds': round(r['seconds'], 2), 'mb_per_s': round(mb / r['seconds'], 1),
            'cpu_seconds': round(r['cpu_seconds'], 2), 'mb_per_cpu_s': round(mb / r['cpu_seconds'], 1),
            'peak_rss_mb': round(r['peak_rss_mb']), 'load_average_1min': round(os.getloadavg()[0], 1), 'output_sha256_16': __import__('hashlib').sha256(out.read_bytes()).hexdigest()[:16]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--mb', type=float, default=100., help='size of the large corpus, MB')
    p.add_argument('--small-mb', type=float, default=10., help='size of the small corpus, MB')
    p.add_argument('--out', default=str(ROOT / 'nbs/results/tokenize_cpu.json'))
    a = p.parse_args()
    sys.path.insert(0, str(ROOT))
    from ski_tnn.data.text import BpeTokenizer
    res = {'command': f'python tools/bench_tokenize.py --mb {a.mb:g} --small-mb {a.small_mb:g}',
           'machine': f'{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores',
           'corpus': 'order-1 word Markov chain fitted on corpora/ (Tiny Shakespeare, WikiText-2 valid), seed 0',
           'bpe': 'byte-level BPE, 8192 ids, trained on corpora/', 'runs': []}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        lines = [l for f in CORPORA for l in gzip.decompress(f.read_bytes()).decode('utf-8').splitlines(keepends=True)]
        BpeTokenizer.train(lines, 8192).save(d / 'bpe.json')
        for name, mb in (('small', a.small_mb), ('large', a.mb)):
            t0 = time.perf_counter(); markov_corpus(d / f'{name}.txt', mb)
            print(f'{name} corpus: {(d / f"{name}.txt").stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s', flush=True)
        runs = [('byte', 'small', False), ('byte', 'large', False), ('bpe', 'small', False), ('bpe', 'large', False),
                ('byte', 'small', True), ('bpe', 'small', True)]
        for kind, name, legacy in runs:
            r = {'tokenizer': kind, 'corpus': name, 'method': 'per-line encode (earlier versions)' if legacy else 'tokenize_to_file',
                 **measure(d / f'{name}.txt', kind, d / 'bpe.json', d / f'{kind}-{name}-{int(legacy)}.bin', legacy)}
            print(json.dumps(r), flush=True); res['runs'].append(r)
    Path(a.out).write_text(json.dumps(res, indent=1) + '\n')
    print(f'wrote {a.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
