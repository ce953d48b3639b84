"""Time this package's TNN, FD-TNN and SKI-TNN mixers against the released modules of jonathanmei/ski-tnn on the CPU.

Usage (with your own clone of https://github.com/jonathanmei/ski-tnn):

    python tools/compare_official.py --official PATH/TO/ski-tnn [--n 4096] [--dim 256] [--batch 2] [--reps 9]

The released modules (`laxtnn/modules/tno.py`, `tno_fd.py`, `skitno_inv_time.py`) are imported from the clone without
running the package `__init__` files (which import fairseq); they need torch and einops only. Nothing of theirs is copied
into this repository. Each pair is built with matching settings: TNN with a 64-wide RPE 6 blocks deep and decay 0.99,
FD-TNN with a 64-wide RPE 3 blocks deep, SKI-TNN with 32 inducing points and a 17-tap band (the released `nk=16`, rounded
up to odd). Where the parametrisations agree (the RPE weights of TNN and FD-TNN) ours are loaded with theirs and the outputs
compared; SKI-TNN's kernels are parametrised differently, so only the sizes match. Forward + backward of the sum of the
output is timed for every module, interleaved round-robin in one process (median of `--reps` calls), and the ratios
official / ours are printed and written to `nbs/results/official_cpu.json`.
"""
from __future__ import annotations
import argparse, importlib, json, os, platform, statistics, sys, time, types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from ski_tnn.bench import warm_allocator          # noqa: E402
from ski_tnn.model import make_mixer              # noqa: E402


def import_official(path: Path) -> dict:
    "Import the released mixer classes from a clone at `path`, bypassing the package `__init__` files."
    pkg = path / 'laxtnn'
    if not (pkg / 'modules' / 'tno.py').exists():
        raise FileNotFoundError(f"--official: {path} has no laxtnn/modules/tno.py (expected a clone of jonathanmei/ski-tnn)")
    for name, folder in (('laxtnn', pkg), ('laxtnn.modules', pkg / 'modules')):
        mod = types.ModuleType(name); mod.__path__ = [str(folder)]; sys.modules[name] = mod
    sys.path.insert(0, str(path))
    quiet = open(os.devnull, 'w'); out, sys.stdout = sys.stdout, quiet      # print_params prints every argument
    try:
        return {'Tno': importlib.import_module('laxtnn.modules.tno').Tno,
                'TnoFD': importlib.import_module('laxtnn.modules.tno_fd').TnoFD,
                'SKITnoInvTime': importlib.import_module('laxtnn.modules.skitno_inv_time').SKITnoInvTime}
    finally: sys.stdout = out


def build_pairs(off: dict, dim: int) -> list[dict]:
    "Official and package modules with matching settings, RPE weights copied where the parametrisations agree."
    quiet = open(os.devnull, 'w'); out, sys.stdout = sys.stdout, quiet
    try:
        pairs = []
        for causal in (False, True):
            torch.manual_seed(0)
            theirs = off['Tno'](1, dim, 64, causal=causal, use_decay=True, gamma=0.99, layers=6)
            ours = make_mixer('tnn', dim, causal, rpe_dim=64, rpe_layers=6, gamma=0.99)
            ours.rpe.load_state_dict(theirs.rpe.state_dict())
            pairs.append(dict(name='tnn', official='Tno', causal=causal, theirs=theirs, ours=ours, heads=True, same_weights=True))
            theirs = off['TnoFD'](1, dim, 64, causal=causal, layers=3)
            ours = make_mixer('fd', dim, causal, rpe_dim=64, rpe_layers=3)
            ours.rpe.load_state_dict(theirs.rpe.state_dict())
            pairs.append(dict(name='fd', official='TnoFD', causal=causal, theirs=theirs, ours=ours, heads=True, same_weights=True))
        theirs = off['SKITnoInvTime'](1, dim, 32, 16, causal=False, gamma=0.99)
        ours = make_mixer('ski', dim, False, rank=32, taps=17, gamma=0.99)
        pairs.append(dict(name='ski', official='SKITnoInvTime', causal=False, theirs=theirs, ours=ours, heads=False, same_weights=False))
        return pairs
    finally: sys.stdout = out


def call_of(m, x, heads: bool, backward: bool = True):
    "A no-argument forward + backward of `m` on `x` (`(batch, n, dim)`; the released TNN modules take `(batch, heads, n, dim)`)."
    xin = x[:, None] if heads else x
    def call():
        m.zero_grad(set_to_none=True); x.grad = None
        y = m(xin)
        y.sum().backward()
    return call


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--official', required=True, type=Path, help='a clone of jonathanmei/ski-tnn')
    p.add_argument('--n', type=int, default=4096); p.add_argument('--dim', type=int, default=256)
    p.add_argument('--batch', type=int, default=2); p.add_argument('--reps', type=int, default=9)
    p.add_argument('--out', type=Path, default=ROOT / 'nbs' / 'results' / 'official_cpu.json')
    a = p.parse_args(argv)
    if a.reps < 1 or a.n < 2 or a.dim < 1 or a.batch < 1: raise SystemExit("--reps, --dim, --batch: expected >= 1; --n: expected >= 2")
    warm_allocator()
    off = import_official(a.official.expanduser().resolve())
    pairs = build_pairs(off, a.dim)
    torch.manual_seed(1)
    x = torch.randn(a.batch, a.n, a.dim, requires_grad=True)
    agree = {}
    with torch.no_grad():
        for q in pairs:
            if not q['same_weights']: continue
            yt, yo = q['theirs'](x[:, None])[:, 0], q['ours'](x)
            agree[f"{q['name']} {'causal' if q['causal'] else 'bidirectional'}"] = float((yt - yo).norm() / yo.norm())
    calls = {}
    for q in pairs:
        key = f"{q['name']} {'causal' if q['causal'] else 'bidirectional'}"
        calls[(key, 'official')] = call_of(q['theirs'], x, q['heads'])
        calls[(key, 'ours')] = call_of(q['ours'], x, False)
    for c in calls.values(): c()                                    # warm-up
    ts = {k: [] for k in calls}
    for _ in range(a.reps):
        for k, c in calls.items():
            t0 = time.perf_counter(); c(); ts[k].append(1e3 * (time.perf_counter() - t0))
    ms = {k: statistics.median(v) for k, v in ts.items()}
    rows = []
    for q in pairs:
        key = f"{q['name']} {'causal' if q['causal'] else 'bidirectional'}"
        t_off, t_ours = ms[(key, 'official')], ms[(key, 'ours')]
        rows.append(dict(mixer=q['name'], official=q['official'], causal=q['causal'], official_ms=t_off, ours_ms=t_ours,
                         speedup=t_off / t_ours, same_weights=q['same_weights'], rel_diff=agree.get(key)))
        diff = f"outputs differ by {agree[key]:.1e} (relative)" if key in agree else "sizes matched, weights not comparable"
        print(f"{key:22s} official {q['official']:14s} {t_off:8.1f} ms   ours {t_ours:8.1f} ms   official/ours {t_off / t_ours:5.2f}   ({diff})")
    rec = dict(command=' '.join(['python', 'tools/compare_official.py', '--official', 'PATH', '--n', str(a.n), '--dim', str(a.dim),
                                 '--batch', str(a.batch), '--reps', str(a.reps)]),
               n=a.n, dim=a.dim, batch=a.batch, reps=a.reps, backward=True, torch=torch.__version__,
               device=f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)", rows=rows)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_suffix('.tmp'); tmp.write_text(json.dumps(rec, indent=1) + '\n'); os.replace(tmp, a.out)
    print(f"wrote {a.out}")


if __name__ == '__main__':
    main()
