"""Check and measure the Triton kernels on a GPU, and run the mixer benchmark there.

    python3 tools/gpu_report.py [--quick] [--out nbs/results]          # on a CUDA machine
    TRITON_INTERPRET=1 python3 tools/gpu_report.py --device cpu --out /tmp/r   # a dry run of the logic on the CPU

Needs only torch, triton, numpy, scipy and matplotlib (no fastai, no nbdev); installs nothing. Writes to `--out`:
`bench_gpu.jsonl` (the mixer sweep, the fields of `ski-tnn bench --json` plus `device`), `kernels_gpu.json` (every check,
every kernel timing, the mixers with the kernels forced on and off), `kernels_gpu.md` (the tables below) and
`kernels_gpu.png` (achieved bandwidth against n). Exits 1 when a check fails.

Bandwidth is counted from the fewest bytes a call must move: read `x`, read the coefficients, write `y`
(`2 batch n dim` elements of `x`'s dtype plus the float32 coefficients), over its median time, as a fraction of the measured
copy bandwidth (a 1 GiB device-to-device copy, counting bytes read plus bytes written).
"""
from __future__ import annotations
import argparse, json, os, platform, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--quick', action='store_true', help='fewer shapes and lengths (a few minutes less)')
    p.add_argument('--out', default='nbs/results', help='folder for bench_gpu.jsonl and the kernel report')
    p.add_argument('--device', default=None, help="'cuda' (default when available) or 'cpu' (Triton's interpreter, tiny shapes)")
    p.add_argument('--no-bench', action='store_true', help='skip the mixer sweep')
    p.add_argument('--no-checks', action='store_true', help='skip the correctness checks')
    return p.parse_args()


def table(rows, cols, fmt=None)->str:
    "A markdown table of `rows` (dicts) with columns `cols`."
    fmt = fmt or {}
    cell = lambda r, c: (fmt[c](r[c]) if c in fmt else str(r[c])) if r.get(c) is not None else ''
    lines = ['| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
    lines += ['| ' + ' | '.join(cell(r, c) for c in cols) + ' |' for r in rows]
    return '\n'.join(lines)


def plot(path, tz, sk, device):
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axs = plt.subplots(1, 2, figsize=(11, 4))
    for dt, ls in (('float32', '-'), ('bfloat16', '--')):
        for mode, c in (('bidirectional', 'C0'), ('causal', 'C1')):
            r = [x for x in tz if x['dtype'] == dt and x['mode'] == mode]
            if not r: continue
            axs[0].plot([x['n'] for x in r], [x['bw_frac'] for x in r], ls, color=c, marker='o', label=f'kernel {mode} {dt}')
            axs[0].plot([x['n'] for x in r], [x['torch_bw_frac'] for x in r], ls, color=c, alpha=.4, marker='x', label=f'FFT {mode} {dt}')
        for k, c in (('interp_t', 'C2'), ('band_lerp', 'C3'), ('ski_fused', 'C0'), ('SkiTno_torch', 'C7')):
            r = [x for x in sk if x['dtype'] == dt and x['kernel'] == k]
            if r: axs[1].plot([x['n'] for x in r], [x['bw_frac'] for x in r], ls, color=c, marker='o', label=f'{k} {dt}')
    axs[0].set_title('Toeplitz product, forward'); axs[1].set_title('SKI, forward')
    for a in axs:
        a.set_xscale('log', base=2); a.set_xlabel('n'); a.set_ylabel('fraction of copy bandwidth (fewest bytes)')
        a.grid(alpha=.3); a.legend(fontsize=6)
    fig.suptitle(f'Achieved bandwidth on {device}')
    fig.tight_layout(); fig.savefig(path, dpi=110); plt.close(fig)


def main():
    args = parse()
    device = args.device or 'cuda'
    if device == 'cpu': os.environ.setdefault('TRITON_INTERPRET', '1')   # before triton is imported
    import torch
    if device == 'cuda' and not torch.cuda.is_available(): sys.exit('no CUDA device: run with --device cpu (and TRITON_INTERPRET=1) for a dry run')
    import triton
    import ski_tnn.kernels as K
    from ski_tnn.model import MIXERS
    from ski_tnn.bench import bench, device_name
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    cpu, quick = device == 'cpu', args.quick or device == 'cpu'
    t0 = time.time()
    dev = device_name(device)
    info = dict(device=dev, torch=torch.__version__, triton=triton.__version__, python=platform.python_version())
    print(f"{dev}; torch {torch.__version__}, triton {triton.__version__}", flush=True)
    f32, bf16 = torch.float32, torch.bfloat16
    report = dict(info=info)
    md = [f"Measured on {dev} with torch {torch.__version__} and Triton {triton.__version__}."]

    # (a) correctness
    failed = 0
    if not args.no_checks:
        if cpu:
            rows = K.check_toeplitz(device, shapes=((1, 5, 3), (2, 37, 4))) + \
                   K.check_ski(device, shapes=((1, 5, 3, 2, 1), (2, 37, 4, 5, 5))) + \
                   K.check_mixers(MIXERS, device=device, shapes=((2, 29, 3),))
        else:
            rows = K.check_toeplitz(device) + K.check_ski(device) + K.check_mixers(MIXERS, device=device)
        failed = sum(not r['ok'] for r in rows)
        for r in rows: r['result'] = 'PASS' if r['ok'] else 'FAIL'
        e = lambda v: f"{v:.1e}"
        t = table(rows, ['check', 'mode', 'dtype', 'shape', 'err', 'err_torch', 'tol', 'launched', 'result'],
                  dict(err=e, err_torch=e, tol=e, shape=lambda s: 'x'.join(map(str, s))))
        print(t, flush=True)
        print(f"{len(rows) - failed} passed, {failed} failed ({time.time() - t0:.0f} s)", flush=True)
        report['checks'] = rows
        md += ['', '### Checks', '', t]

    # (b) bandwidth and kernel speed
    copy_bw = K.copy_bandwidth(device, 2**20 if cpu else 2**30)
    print(f"copy bandwidth: {copy_bw / 1e12:.3f} TB/s (read + write)", flush=True)
    report['copy_bw'] = copy_bw
    if cpu:
        tz = K.measure_toeplitz(device, ns=(16, 40), batch=1, dim=8, copy_bw=copy_bw)
        sk = K.measure_ski(device, ns=(64,), batch=1, dim=8, rank=4, taps=3, copy_bw=copy_bw)
    else:
        tz = K.measure_toeplitz(device, ns=(256, 1024, 4096) if quick else (128, 256, 512, 1024, 2048, 4096), copy_bw=copy_bw)
        sk = K.measure_ski(device, ns=(4096, 65536) if quick else (1024, 4096, 16384, 65536), copy_bw=copy_bw)
    report['toeplitz'], report['ski'] = tz, sk
    ms, pc, tf = (lambda v: f"{v:.3f}"), (lambda v: f"{v:.0%}"), (lambda v: f"{v:.1f}")
    t1 = table(tz, ['mode', 'dtype', 'n', 'kernel_ms', 'torch_ms', 'kernel_fb_ms', 'torch_fb_ms', 'bw_frac', 'torch_bw_frac', 'tflops'],
               dict(kernel_ms=ms, torch_ms=ms, kernel_fb_ms=ms, torch_fb_ms=ms, bw_frac=pc, torch_bw_frac=pc, tflops=tf))
    t2 = table(sk, ['kernel', 'dtype', 'n', 'ms', 'bw_frac'], dict(ms=ms, bw_frac=pc))
    print(t1, t2, sep='\n\n', flush=True)
    b0 = tz[0]
    md += ['', f"Copy bandwidth {copy_bw / 1e12:.2f} TB/s. Toeplitz product, batch {b0['batch']}, dim {b0['dim']} "
           "(ms: median forward; fb: forward + backward; bandwidth: fewest bytes over the forward time, as a fraction of the copy):",
           '', t1, '', f"SKI, batch {sk[0]['batch']}, dim {sk[0]['dim']}, 32 inducing points, 17 taps:", '', t2]
    try: plot(out / 'kernels_gpu.png', tz, sk, dev)
    except Exception as ex: print(f"plot failed: {ex!r}")
    print(f"kernels measured ({time.time() - t0:.0f} s)", flush=True)

    # (c) the mixer sweep: the package's default dispatch for bench_gpu.jsonl, the kernels forced on and off beside it
    if not args.no_bench:
        if cpu: ns, ns_attn, reps = (64, 128), (64, 128), 1
        elif quick: ns, ns_attn, reps = (256, 1024, 4096, 16384), (256, 1024, 4096), 5
        else: ns, ns_attn, reps = tuple(2**k for k in range(8, 17)), tuple(2**k for k in range(8, 15)), 5
        d, b = (16, 1) if cpu else (256, 2)
        rows, forced = [], []
        for causal in (False, True):
            for backward in (False, True):
                kw = dict(dim=d, batch=b, causal=causal, backward=backward, reps=reps, device=device)
                rows += bench(['tnn', 'ski', 'fd', 'ssm', 'attn'], [n for n in ns if n in ns_attn], **kw)
                rows += bench(['tnn', 'ski', 'fd', 'ssm'], [n for n in ns if n not in ns_attn], **kw)
                for on in (True, False):
                    with K.use_kernels(on):
                        forced += [dict(r, kernels=on) for r in bench(['tnn', 'ski', 'ssm'], ns, memory=False, **kw)]
                print(f"bench causal={causal} backward={backward} done ({time.time() - t0:.0f} s)", flush=True)
        rows.sort(key=lambda r: (r['causal'], r['backward'], r['mixer'], r['n']))
        with open(out / 'bench_gpu.jsonl', 'w') as f: f.writelines(json.dumps(r) + '\n' for r in rows)
        report['bench_forced'] = forced
        speed = []
        for r in forced:
            if not r['kernels']: continue
            off = next(o for o in forced if not o['kernels'] and all(o[k] == r[k] for k in ('mixer', 'n', 'causal', 'backward')))
            speed.append(dict(mixer=r['mixer'], causal=r['causal'], backward=r['backward'], n=r['n'], kernels_ms=r['ms'],
                              torch_ms=off['ms'], speedup=off['ms'] / r['ms']))
        t3 = table(speed, ['mixer', 'causal', 'backward', 'n', 'kernels_ms', 'torch_ms', 'speedup'],
                   dict(kernels_ms=ms, torch_ms=ms, speedup=lambda v: f"{v:.2f}x"))
        t4 = table([r for r in rows if r['backward']], ['mixer', 'causal', 'n', 'ms', 'peak_mb'], dict(ms=ms, peak_mb=tf))
        print(t3, flush=True)
        md += ['', f"Mixers (batch {b}, dim {d}, float32, paper settings), kernels forced on and off:", '', t3,
               '', 'Forward + backward with the default dispatch (`bench_gpu.jsonl`):', '', t4]
    with open(out / 'kernels_gpu.json', 'w') as f: json.dump(report, f, indent=1, default=str)
    (out / 'kernels_gpu.md').write_text('\n'.join(md) + '\n')
    print(f"wrote {out}/ ({time.time() - t0:.0f} s); {failed} check(s) failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == '__main__': main()
