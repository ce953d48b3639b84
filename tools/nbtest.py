#!/usr/bin/env python
"""Run the notebooks' lesson cells with nbdev's own `test_nb`, each notebook in a fresh Python process.

    python tools/nbtest.py [--flags "slow cuda"] [--n-workers 2] [PATH ...]

`nbdev-test` runs several notebooks one after another in each worker process, so what one notebook leaves in a module
(a mixer or task registered in `ski_tnn.registry` to show how, say) is still there for the next one, and a test's result
can depend on which notebooks happened to share its worker. Here every notebook starts from a new interpreter, as it does
for a reader who runs it: the result of a notebook depends on that notebook alone. The cells, flags (`#| slow`,
`#| cuda`, `tst_flags` in pyproject.toml), cell time-out and working directory are nbdev's. Prints each notebook's time
and a final `N passed, M failed` line; exits 1 if any notebook failed or none was found.
"""
from __future__ import annotations
import argparse, json, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nbdev.config import get_config
from nbdev.doclinks import nbglob
from nbdev.test import _keep_file


RUN = """import json, sys
from nbdev.test import test_nb
fn, skip, force, basepath, timeout = json.loads(sys.argv[1])
sys.exit(0 if test_nb(fn, skip_flags=skip, force_flags=force, basepath=basepath, cell_timeout=timeout)[0] else 1)"""


def run_one(job: tuple) -> tuple[str, bool, float]:
    "Test one notebook in a new Python process (not a pool worker: a notebook may start processes of its own)."
    start = time.time()
    res = subprocess.run([sys.executable, '-c', RUN, json.dumps(job)])
    return job[0], res.returncode == 0, time.time() - start


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('paths', nargs='*', help='notebooks to test (default: every notebook nbdev would test)')
    p.add_argument('--flags', default='', help='space-separated test flags to run too, e.g. "slow" or "slow cuda"')
    p.add_argument('--n-workers', type=int, default=2, help='notebooks tested at once')
    a = p.parse_args()
    cfg = get_config()
    skip = cfg.tst_flags.split() if isinstance(cfg.tst_flags, str) else list(cfg.tst_flags)
    force = a.flags.split()
    files = [Path(f).absolute() for f in a.paths] if a.paths else \
            [f.absolute() for f in sorted(nbglob(cfg.nbs_path, as_path=True)) if _keep_file(f, '.notest')]
    if not files: print('nbtest: no notebooks to test'); return 1
    timeout = cfg.get('cell_timeout')
    timeout = int(timeout) if timeout else None
    failed, start = [], time.time()
    jobs = [(str(f), skip, force, str(cfg.config_path), timeout) for f in files]
    with ThreadPoolExecutor(max(1, a.n_workers)) as pool:
        for fn, ok, secs in pool.map(run_one, jobs):
            name = Path(fn).relative_to(cfg.nbs_path).as_posix()
            print(f"{name}: {secs:.0f} secs{'' if ok else '  FAILED'}", flush=True)
            if not ok: failed.append(name)
    print(f"nbtest: {len(files)} notebooks in {time.time() - start:.0f} s")
    if failed: print('failed:\n  ' + '\n  '.join(sorted(failed)))
    print(f"{len(files) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == '__main__': sys.exit(main())
