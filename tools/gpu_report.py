"""Check and measure the Triton kernels on a GPU, and run the mixer benchmark there.

    python3 tools/gpu_report.py [--quick] [--out nbs/results]          # on a CUDA machine
    TRITON_INTERPRET=1 python3 tools/gpu_report.py --device cpu --out /tmp/r   # a dry run of the logic on the CPU

Needs only torch, triton, numpy, scipy and matplotlib (no fastai, no nbdev); installs nothing. Writes to `--out`:
`bench_gpu.jsonl` (the mixer sweep, the fields of `ski-tnn bench --json` plus `device`), `kernels_gpu.json` (every check,
every kernel timing, the mixers with the kernels forced on and off) and `kernels_gpu.png` (forward time and achieved
bandwidth against n), each written atomically (a temporary file, then a rename); the tables are printed. `--replot` redraws
the picture and prints the tables from a saved `kernels_gpu.json`. Exits 1 when a check fails.

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
    p.add_argument('--tune', action='store_true', help='also time a few tile shapes of each kernel (for choosing the defaults)')
    p.add_argument('--before', default=None, help="an earlier run's kernels_gpu.json: its kernel timings go beside this run's as 'before'")
    p.add_argument('--replot', default=None, help="redraw kernels_gpu.png into --out and print the tables, from this kernels_gpu.json (no GPU needed)")
    return p.parse_args()


def write_atomic(path:Path, write):
    "Call `write(tmp)` on a temporary file beside `path`, then rename it to `path`: a reader never sees a half-written file."
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try: write(tmp); os.replace(tmp, path)
    finally: tmp.unlink(missing_ok=True)


def table(rows, cols, fmt=None)->str:
    "A markdown table of `rows` (dicts) with columns `cols`."
    fmt = fmt or {}
    cell = lambda r, c: (fmt[c](r[c]) if c in fmt else str(r[c])) if r.get(c) is not None else ''
    lines = ['| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
    lines += ['| ' + ' | '.join(cell(r, c) for c in cols) + ' |' for r in rows]
    return '\n'.join(lines)


def plot(path, report):
    "Left: the Toeplitz product's forward time, kernel and FFT (and the kernel before, if known); right: the SKI kernels' bandwidth."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    tz, sk, before = report['toeplitz'], report['ski'], report.get('before', {})
    fig, axs = plt.subplots(1, 2, figsize=(11, 4))
    for dt, ls in (('float32', '-'), ('bfloat16', '--')):
        sel = lambda rows: [x for x in rows if x['dtype'] == dt and x['mode'] == 'bidirectional']
        r = sel(tz)
        axs[0].plot([x['n'] for x in r], [x['kernel_ms'] for x in r], ls, color='C0', marker='o', label=f'kernel {dt}')
        axs[0].plot([x['n'] for x in r], [x['torch_ms'] for x in r], ls, color='C7', marker='x', label=f'FFT {dt}')
        if before.get('toeplitz'):
            r = sel(before['toeplitz'])
            axs[0].plot([x['n'] for x in r], [x['kernel_ms'] for x in r], ls, color='C3', marker='.', alpha=.6, label=f'kernel before {dt}')
        for k, c in (('interp_t', 'C2'), ('band_lerp', 'C3'), ('band_grad', 'C4'), ('ski_fused', 'C0'), ('SkiTno_torch', 'C7')):
            r = [x for x in sk if x['dtype'] == dt and x['kernel'] == k]
            if r: axs[1].plot([x['n'] for x in r], [x['bw_frac'] for x in r], ls, color=c, marker='o', label=f'{k} {dt}')
    b0, s0 = tz[0], sk[0]
    axs[0].set_title(f"Toeplitz product, bidirectional, batch {b0['batch']}, dim {b0['dim']}")
    axs[0].set_ylabel('forward time (ms)'); axs[0].set_yscale('log')
    axs[1].set_title(f"SKI forward kernels, batch {s0['batch']}, dim {s0['dim']}")
    axs[1].set_ylabel('fraction of copy bandwidth (fewest bytes)')
    for a in axs:
        a.set_xscale('log', base=2); a.set_xlabel('n'); a.grid(alpha=.3); a.legend(fontsize=6)
    fig.suptitle(f"Triton kernels on {report['info']['device']}")
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=110, format='png')); plt.close(fig)


def render(report, out):
    "Print the report's tables (markdown) and draw kernels_gpu.png into `out`."
    info = report['info']
    ms, pc, tf, e = (lambda v: f"{v:.3f}"), (lambda v: f"{v:.0%}"), (lambda v: f"{v:.1f}"), (lambda v: f"{v:.1e}")
    md = [f"Measured on {info['device']} with torch {info['torch']} and Triton {info['triton']}."]
    if 'checks' in report:
        md += ['', '### Checks', '', table(report['checks'], ['check', 'mode', 'dtype', 'shape', 'err', 'err_torch', 'tol', 'launched', 'result'],
                                           dict(err=e, err_torch=e, tol=e, shape=lambda s: 'x'.join(map(str, s))))]
    tz, sk = report['toeplitz'], report['ski']
    md += ['', f"Copy bandwidth {report['copy_bw'] / 1e12:.2f} TB/s. Toeplitz product, batch {tz[0]['batch']}, dim {tz[0]['dim']} "
           "(ms: median forward; fb: forward + backward; bandwidth: fewest bytes over the forward time, as a fraction of the copy):", '',
           table(tz, ['mode', 'dtype', 'n', 'kernel_ms', 'torch_ms', 'kernel_fb_ms', 'torch_fb_ms', 'bw_frac', 'torch_bw_frac', 'tflops'],
                 dict(kernel_ms=ms, torch_ms=ms, kernel_fb_ms=ms, torch_fb_ms=ms, bw_frac=pc, torch_bw_frac=pc, tflops=tf)),
           '', f"SKI, batch {sk[0]['batch']}, dim {sk[0]['dim']}, 32 inducing points, 17 taps:", '',
           table(sk, ['kernel', 'dtype', 'n', 'ms', 'bw_frac'], dict(ms=ms, bw_frac=pc))]
    before = report.get('before')
    if before:
        key = lambda r: (r.get('kernel'), r.get('mode'), r['dtype'], r['n'])
        old = {key(r): r for r in before['toeplitz'] + before['ski']}
        rows = [dict(kernel=r.get('kernel'), mode=r.get('mode'), dtype=r['dtype'], n=r['n'], before_ms=old[key(r)].get('kernel_ms', old[key(r)].get('ms')),
                     after_ms=r.get('kernel_ms', r.get('ms')), before_bw=old[key(r)].get('bw_frac'), after_bw=r.get('bw_frac'))
                for r in tz + sk if key(r) in old and r.get('kernel') in ('toeplitz', 'interp_t', 'band_lerp', 'ski_fused', 'SkiTno_fb')]
        md += ['', f"Before ({before['note']}) and after:", '',
               table(rows, ['kernel', 'mode', 'dtype', 'n', 'before_ms', 'after_ms', 'before_bw', 'after_bw'],
                     dict(before_ms=ms, after_ms=ms, before_bw=pc, after_bw=pc))]
    if 'speed' in report:
        b0 = report['bench'][0]
        md += ['', f"Mixers (batch {b0['batch']}, dim {b0['dim']}, float32, paper settings), kernels forced on and off:", '',
               table(report['speed'], ['mixer', 'causal', 'backward', 'n', 'kernels_ms', 'torch_ms', 'speedup'],
                     dict(kernels_ms=ms, torch_ms=ms, speedup=lambda v: f"{v:.2f}x")),
               '', 'Forward + backward with the default dispatch (`bench_gpu.jsonl`):', '',
               table([r for r in report['bench'] if r['backward']], ['mixer', 'causal', 'n', 'ms', 'peak_mb'], dict(ms=ms, peak_mb=tf))]
    print('\n'.join(md), flush=True)
    try: plot(out / 'kernels_gpu.png', report)
    except Exception as ex: print(f"plot failed: {ex!r}")


TOEPLITZ_TILES = [dict(BLOCK=B, BLOCK_N=N, BLOCK_D=D, num_warps=W, num_stages=S) for B, N, D, W, S in
                  [(32, 32, 8, 4, 2), (32, 32, 8, 8, 2), (32, 64, 8, 8, 2), (32, 32, 16, 8, 2), (16, 32, 16, 4, 2),
                   (64, 32, 4, 8, 2), (64, 32, 8, 8, 2), (32, 32, 8, 4, 3), (32, 64, 4, 4, 2), (16, 64, 8, 4, 2)]]
SKI_TILES = [dict(BLOCK_N=a, BLOCK_BYTES=b, num_warps=c, GRAD_BLOCK_N=d, GRAD_BLOCK_BYTES=4 * e, GRAD_WARPS=f) for a, b, c, d, e, f in
             [(32, 256, 4, 32, 32, 1), (64, 256, 4, 64, 32, 1), (16, 256, 4, 32, 64, 1), (32, 512, 4, 32, 64, 2),
              (32, 256, 2, 64, 128, 4), (64, 512, 8, 16, 32, 1), (32, 128, 4, 128, 32, 1)]]


def tune(K, C, device, copy_bw, cpu):
    "Time each kernel at a few tile shapes (and, for float32 Toeplitz, each precision); the error against the torch path beside it."
    import torch
    rows = []
    b, d, ns = (1, 8, (40,)) if cpu else (4, 1024, (256, 1024))
    tiles = TOEPLITZ_TILES[:2] if cpu else TOEPLITZ_TILES
    for dt in (torch.float32, torch.bfloat16):
        for n in ns:
            torch.manual_seed(n)
            x = torch.randn(b, n, d, device=device).to(dt)
            coef = torch.randn(d, 2 * n - 1, device=device) * n ** -.5
            ref = K.toeplitz_matvec(coef, x)                       # the FFT product
            precs = ('bf16x3', 'tf32x3', 'tf32', 'ieee') if dt == torch.float32 else ('split',)
            for i, tile in enumerate(tiles):
                for prec in (precs if i == 0 else precs[:1]):
                    cfg = dict(tile, PREC=prec)
                    try:
                        err = C.rel_err(K._toeplitz_launch(coef, x, False, **cfg), ref)
                        ms = C.bench_ms(lambda: K._toeplitz_launch(coef, x, False, **cfg), device)
                        rows.append(dict(kernel='toeplitz', dtype=str(dt)[6:], n=n, config=cfg, ms=ms, err=err))
                    except Exception as ex: rows.append(dict(kernel='toeplitz', dtype=str(dt)[6:], n=n, config=cfg, failed=repr(ex)[:300]))
                    print(rows[-1], flush=True)
    old = dict(K.SKI_CONFIG)
    b, n, d = (1, 64, 8) if cpu else (4, 16384, 1024)
    for dt in (torch.float32, torch.bfloat16):
        torch.manual_seed(0)
        x, g = torch.randn(b, n, d, device=device).to(dt), torch.randn(b, n, d, device=device).to(dt)
        band, z = torch.randn(d, 17, device=device), torch.randn(b, 32, d, device=device)
        idx = K._ski_index(n, 32, x.device)
        for tile in (SKI_TILES[:2] if cpu else SKI_TILES):
            K.SKI_CONFIG.update(tile)
            try:
                for name, f, moved in (('interp_t', lambda: K._interp_t_launch(x, idx, 32), 1), ('band_lerp', lambda: K._band_lerp_launch(x, band, z, idx, x.shape, dt), 2),
                                       ('band_grad', lambda: K._band_grad_launch(g, x, 17), 2)):
                    ms = C.bench_ms(f, device)
                    rows.append(dict(kernel=name, dtype=str(dt)[6:], n=n, config=dict(tile), ms=ms, bw_frac=moved * x.numel() * x.element_size() / (ms * 1e-3) / copy_bw))
                    print(rows[-1], flush=True)
            except Exception as ex: rows.append(dict(kernel='ski', dtype=str(dt)[6:], n=n, config=dict(tile), failed=repr(ex)[:300])); print(rows[-1])
        K.SKI_CONFIG.clear(); K.SKI_CONFIG.update(old)
    return rows


def main():
    args = parse()
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    before = json.load(open(args.before)) if args.before else None
    if args.replot:
        report = json.load(open(args.replot))
        if before: report['before'] = dict(note=before.get('note', 'an earlier run'), toeplitz=before['toeplitz'], ski=before['ski'])
        render(report, out); return
    device = args.device or 'cuda'
    if device == 'cpu': os.environ.setdefault('TRITON_INTERPRET', '1')   # before triton is imported
    import torch
    if device == 'cuda' and not torch.cuda.is_available(): sys.exit('no CUDA device: run with --device cpu (and TRITON_INTERPRET=1) for a dry run')
    import triton
    import ski_tnn.kernels as K, ski_tnn.kernel_checks as C, ski_tnn.dispatch as D
    from ski_tnn.model import MIXERS
    from ski_tnn.bench import bench, device_name
    cpu, quick = device == 'cpu', args.quick or device == 'cpu'
    t0 = time.time()
    dev = device_name(device)
    info = dict(device=dev, torch=torch.__version__, triton=triton.__version__, python=platform.python_version())
    print(f"{dev}; torch {torch.__version__}, triton {triton.__version__}", flush=True)
    f32, bf16 = torch.float32, torch.bfloat16
    report = dict(info=info)
    if before: report['before'] = dict(note=before.get('note', 'an earlier run'), toeplitz=before['toeplitz'], ski=before['ski'])

    # (a) correctness
    failed = 0
    if not args.no_checks:
        if cpu:
            rows = C.check_toeplitz(device, shapes=((1, 5, 3), (2, 37, 4), (3, 100, 16))) + \
                   C.check_ski(device, shapes=((1, 5, 3, 2, 1), (2, 37, 4, 5, 5), (1, 150, 16, 6, 7))) + \
                   C.check_mixers(MIXERS, device=device, shapes=((2, 29, 3), (1, 600, 4)))
        else:
            rows = C.check_toeplitz(device) + C.check_ski(device) + C.check_mixers(MIXERS, device=device)
        failed = sum(not r['ok'] for r in rows)
        for r in rows: r['result'] = 'PASS' if r['ok'] else 'FAIL'
        e = lambda v: f"{v:.1e}"
        t = table(rows, ['check', 'mode', 'dtype', 'shape', 'err', 'err_torch', 'tol', 'launched', 'result'],
                  dict(err=e, err_torch=e, tol=e, shape=lambda s: 'x'.join(map(str, s))))
        print(t, flush=True)
        print(f"{len(rows) - failed} passed, {failed} failed ({time.time() - t0:.0f} s)", flush=True)
        report['checks'] = rows

    # (b) bandwidth and kernel speed
    copy_bw = C.copy_bandwidth(device, 2**20 if cpu else 2**30)
    print(f"copy bandwidth: {copy_bw / 1e12:.3f} TB/s (read + write)", flush=True)
    report['copy_bw'] = copy_bw
    if cpu:
        tz = C.measure_toeplitz(device, ns=(16, 40), batch=1, dim=8, copy_bw=copy_bw)
        sk = C.measure_ski(device, ns=(64,), batch=1, dim=8, rank=4, taps=3, copy_bw=copy_bw)
    else:
        tz = C.measure_toeplitz(device, ns=(256, 1024, 4096) if quick else (128, 256, 512, 1024, 2048, 4096), copy_bw=copy_bw)
        sk = C.measure_ski(device, ns=(4096, 65536) if quick else (1024, 4096, 16384, 65536), copy_bw=copy_bw)
    report['toeplitz'], report['ski'] = tz, sk
    ms, pc, tf = (lambda v: f"{v:.3f}"), (lambda v: f"{v:.0%}"), (lambda v: f"{v:.1f}")
    print(table(tz, ['mode', 'dtype', 'n', 'kernel_ms', 'torch_ms', 'kernel_fb_ms', 'torch_fb_ms', 'bw_frac', 'torch_bw_frac', 'tflops'],
                dict(kernel_ms=ms, torch_ms=ms, kernel_fb_ms=ms, torch_fb_ms=ms, bw_frac=pc, torch_bw_frac=pc, tflops=tf)),
          table(sk, ['kernel', 'dtype', 'n', 'ms', 'bw_frac'], dict(ms=ms, bw_frac=pc)), sep='\n\n', flush=True)
    print(f"kernels measured ({time.time() - t0:.0f} s)", flush=True)

    if args.tune: report['tune'] = tune(K, C, device, copy_bw, cpu); print(f"tuned ({time.time() - t0:.0f} s)", flush=True)

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
                    with D.use_kernels(on):
                        forced += [dict(r, kernels=on) for r in bench(['tnn', 'ski', 'ssm'], ns, memory=False, **kw)]
                print(f"bench causal={causal} backward={backward} done ({time.time() - t0:.0f} s)", flush=True)
        rows.sort(key=lambda r: (r['causal'], r['backward'], r['mixer'], r['n']))
        write_atomic(out / 'bench_gpu.jsonl', lambda tmp: tmp.write_text(''.join(json.dumps(r) + '\n' for r in rows)))
        report['bench_forced'] = forced
        speed = []
        for r in forced:
            if not r['kernels']: continue
            off = next(o for o in forced if not o['kernels'] and all(o[k] == r[k] for k in ('mixer', 'n', 'causal', 'backward')))
            speed.append(dict(mixer=r['mixer'], causal=r['causal'], backward=r['backward'], n=r['n'], kernels_ms=r['ms'],
                              torch_ms=off['ms'], speedup=off['ms'] / r['ms']))
        report['bench'], report['speed'] = rows, speed
        print(table(speed, ['mixer', 'causal', 'backward', 'n', 'kernels_ms', 'torch_ms', 'speedup'],
                    dict(kernels_ms=ms, torch_ms=ms, speedup=lambda v: f"{v:.2f}x")), flush=True)
    write_atomic(out / 'kernels_gpu.json', lambda tmp: tmp.write_text(json.dumps(report, indent=1, default=str)))
    render(report, out)
    print(f"wrote {out}/ ({time.time() - t0:.0f} s); {failed} check(s) failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == '__main__': main()
