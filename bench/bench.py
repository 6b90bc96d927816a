"""`make bench`: throughput of the package's jobs on this machine. Targets are printed next to each result;
they are goals for the code, not pass/fail tests. Results also go to runs/bench/bench.json."""
import os, sys, time, json, tempfile, shutil, platform, argparse
from pathlib import Path
import torch

def timeit(f, n_warm=1, min_time=3.0):
    "Best-of-runs seconds per call, after warm-up; runs until `min_time` has elapsed."
    for _ in range(n_warm): f()
    ts, t_end = [], time.perf_counter() + min_time
    while time.perf_counter() < t_end or len(ts) < 3:
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return min(ts)

def bench_synthfaces(results, compile_too):
    from face_synthesis.data.synth import SynthFaces, identity_factors, nuisance_factors, render_faces
    torch.set_num_threads(1)
    ds, bs = SynthFaces(1000, 100, size=64), 64
    idx = torch.arange(bs).numpy()
    s = timeit(lambda: ds.render(idx))
    results['synthfaces_64_img_s_eager'] = bs/s
    print(f"SynthFaces 64x64, batch {bs}, 1 thread, eager:    {bs/s:8.0f} img/s   (target >= 2000)")
    if compile_too:
        idf, nuf = identity_factors(ds.identity(idx), 0), nuisance_factors(idx, 0)
        rf = torch.compile(render_faces, dynamic=False)
        t0 = time.perf_counter(); rf(idf, nuf, 64); tc = time.perf_counter() - t0
        s = timeit(lambda: rf(idf, nuf, 64))
        results['synthfaces_64_img_s_compiled'] = bs/s; results['synthfaces_compile_s'] = tc
        print(f"SynthFaces 64x64, batch {bs}, 1 thread, compiled: {bs/s:8.0f} img/s   (torch.compile took {tc:.0f} s once)")
    torch.set_num_threads(os.cpu_count() or 1)

def bench_prep(results, n_align, n_plain):
    from face_synthesis.data.faces import shared_data, prepare_faces, list_files
    utk = shared_data('utkface')
    if utk is None: print("prep: ../shared/data/utkface not found, skipped"); return
    files = list_files(utk)
    with tempfile.TemporaryDirectory() as d:
        for name, n, kw in (('aligned (MTCNN)', n_align, dict(align=True)), ('centre crop', n_plain, dict(align=False))):
            src = Path(d)/f'src{n}'; src.mkdir()
            for f in files[:n]: (src/f).symlink_to(utk/f)
            out = Path(d)/f'out{n}{kw["align"]}'
            t0 = time.perf_counter(); r = prepare_faces(src, out, size=64, progress=False, **kw); t = time.perf_counter() - t0
            key = 'prep_utkface_img_s_' + ('align' if kw['align'] else 'noalign')
            results[key] = n/t
            print(f"prep UTKFace -> 64 px, {name:16s} {n/t:8.1f} img/s   ({n} files, {r['kept']} kept, {t:.1f} s, {torch.get_num_threads()} threads)")
            t0 = time.perf_counter(); prepare_faces(src, out, size=64, progress=False, **kw); t = time.perf_counter() - t0
            results[key + '_rerun_s'] = t
            print(f"prep UTKFace rerun (all reused), {name:16s} {t:6.2f} s")

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--no-compile', action='store_true', help='skip the torch.compile measurement (about a minute)')
    p.add_argument('--n-align', type=int, default=512); p.add_argument('--n-plain', type=int, default=2000)
    a = p.parse_args()
    res = dict(machine=platform.processor() or platform.machine(), cpus=os.cpu_count(), torch=torch.__version__)
    print(f"face_synthesis benchmarks on {res['cpus']} CPUs, torch {torch.__version__}")
    bench_synthfaces(res, not a.no_compile)
    bench_prep(res, a.n_align, a.n_plain)
    from face_synthesis.core import atomic_write_json
    atomic_write_json(Path('runs/bench/bench.json'), res)
    print(Path('runs/bench/bench.json'))
