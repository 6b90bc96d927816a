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

def bench_training(results, size=64, bs=64, n_batches=12, width=64):
    """Training throughput (images/s through G and D, every batch counted) of DCGAN and WGAN-GP at `size` px:
    through the fastai Learner (`FaceGANLearner.unconditional`) and through a plain PyTorch loop doing the same work
    (same models, fastai Adam optimisers, schedule, GP, EMA, NaN check, batch preprocessing)."""
    import copy, numpy as np
    from face_synthesis.core import set_seed
    from face_synthesis.data.loaders import FaceImages, face_dls
    from face_synthesis.models.dcgan import DCGANGenerator, DCGANDiscriminator, wgan_critic
    from face_synthesis.learner.core import FaceGANLearner, gradient_penalty, gan_opt_func, bce_gen_loss, bce_crit_loss, wgan_gen_loss, wgan_crit_loss
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
    torch.set_num_threads(os.cpu_count() or 1)
    g = torch.Generator().manual_seed(0)
    faces = FaceImages(torch.randint(0, 256, (bs*n_batches, 3, size, size), dtype=torch.uint8, generator=g))
    for loss in ('dcgan', 'wgan-gp'):
        wgan = loss == 'wgan-gp'; n_crit = 5 if wgan else 1
        def models():
            set_seed(0)
            return DCGANGenerator(size, ngf=width), (wgan_critic(size, width) if wgan else DCGANDiscriminator(size, width))
        # fastai
        G, D = models()
        dls = face_dls(faces, bs=bs, device='cpu')
        learn = FaceGANLearner.unconditional(dls, G, D, loss)
        with learn.no_bar(), learn.no_logging():
            learn.fit(1)                                    # warm-up (allocations, first-call overheads)
            t0 = time.perf_counter(); learn.fit(1); t_fa = time.perf_counter() - t0
        # plain PyTorch, the same work
        G, D = models()
        og, oc = gan_opt_func()(list(G.parameters()), lr=2e-4), gan_opt_func()(list(D.parameters()), lr=1e-4)
        ema = AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(0.999), use_buffers=True)
        gl, cl = (wgan_gen_loss, wgan_crit_loss) if wgan else (bce_gen_loss, bce_crit_loss)
        def epoch():
            perm = torch.randperm(len(faces)); gen_mode, n_c = False, 0
            for i in range(n_batches):
                idx = perm[i*bs:(i+1)*bs]
                real = faces.images[idx].float().div_(255).sub_(0.5).div_(0.5)
                flip = torch.rand(bs) < 0.5; real[flip] = real[flip].flip(-1)
                z = torch.randn(bs, 100)
                if gen_mode:
                    for p in D.parameters(): p.requires_grad_(False)
                    for p in G.parameters(): p.requires_grad_(True)
                    fake = G(z); loss_ = gl(D(fake)); loss_.backward(); og.step(); og.zero_grad(); ema.update_parameters(G)
                    gen_mode = False
                else:
                    for p in G.parameters(): p.requires_grad_(False)
                    for p in D.parameters(): p.requires_grad_(True)
                    fake = G(z).requires_grad_(False); loss_ = cl(D(real), D(fake))
                    if wgan: loss_ = loss_ + 10*gradient_penalty(D, real, fake)
                    loss_.backward(); oc.step(); oc.zero_grad(); n_c += 1
                    if n_c == n_crit: gen_mode, n_c = True, 0
                assert torch.isfinite(loss_)
        epoch()
        t0 = time.perf_counter(); epoch(); t_pl = time.perf_counter() - t0
        n = bs*n_batches
        results[f'train_{loss}_{size}_img_s_fastai'] = n/t_fa; results[f'train_{loss}_{size}_img_s_plain'] = n/t_pl
        results[f'train_{loss}_{size}_fastai_over_plain'] = t_pl/t_fa
        print(f"train {loss:8s} {size}x{size}, batch {bs}, width {width}: fastai {n/t_fa:6.1f} img/s, plain PyTorch {n/t_pl:6.1f} img/s, "
              f"ratio {t_pl/t_fa:.3f}  (target >= 0.95)")

def _count_flops(f)->int:
    """FLOPs of the matmuls and convolutions `f()` runs, forward and backward (torch's flop formulas, `flop_registry`).
    `FlopCounterMode` itself cannot be used: its module tracker breaks `autograd.grad(create_graph=True)`, which the
    gradient penalty needs, so this is its dispatch-level counting without the module hooks."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry
    class Count(TorchDispatchMode):
        total = 0
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}; out = func(*args, **kwargs)
            fm = flop_registry.get(func._overloadpacket)
            if fm is not None: Count.total += fm(*args, **kwargs, out_val=out)
            return out
    with Count(): f()
    return Count.total

def _peak_flops(n=2048, reps=5)->float:
    "FLOP/s of a large float32 matmul on this machine and thread count: the practical peak MFU is measured against."
    a, b = torch.randn(n, n), torch.randn(n, n)
    s = timeit(lambda: a @ b, min_time=2.0)
    return 2*n**3/s

def bench_stylegan(results, sizes=(32, 64), bs=32, n_batches=8, seconds=300, eval_n=256):
    """StyleGAN training throughput at 32 and 64 px through the fastai Learner and through a plain PyTorch loop doing the
    same work (WGAN-GP with drift, one critic step per generator step, style mixing, w_avg, EMA), the model-FLOPs
    utilisation of a training step (FLOPs counted by torch's FlopCounterMode, against a large matmul's FLOP/s); then
    StyleGAN vs the WGAN-GP DCGAN demo at equal wall-clock on SynthFaces 32 px: final SWD and FID of each."""
    from face_synthesis.core import set_seed
    from face_synthesis.data.loaders import FaceImages, face_dls
    from face_synthesis.models.stylegan import StyleGenerator, StyleDiscriminator
    from face_synthesis.learner.core import FaceGANLearner, gradient_penalty, gan_opt_func, wgan_gen_loss, wgan_crit_loss
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
    torch.set_num_threads(os.cpu_count() or 1)
    peak = _peak_flops(); results['matmul_flops'] = peak
    print(f"float32 matmul 2048x2048, {torch.get_num_threads()} threads: {peak/1e9:.1f} GFLOP/s (the MFU reference)")
    for size in sizes:
        g = torch.Generator().manual_seed(0)
        faces = FaceImages(torch.randint(0, 256, (bs*n_batches, 3, size, size), dtype=torch.uint8, generator=g))
        def models():
            set_seed(0); return StyleGenerator(size, 128, base=16), StyleDiscriminator(size, base=16)
        G, D = models()
        learn = FaceGANLearner.unconditional(face_dls(faces, bs=bs, nz=128, device='cpu'), G, D, 'wgan-gp', lr_gen=1e-3, lr_crit=1e-3,
                                             betas=(0., 0.99), n_crit=1, drift=1e-3, ema_decay=0.99)
        with learn.no_bar(), learn.no_logging():
            learn.fit(1)
            t0 = time.perf_counter(); learn.fit(1); t_fa = time.perf_counter() - t0
        G, D = models()
        og, oc = [gan_opt_func(0., 0.99)(list(m.parameters()), lr=1e-3) for m in (G, D)]
        ema = AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(0.99), use_buffers=True)
        def step(real, gen_mode):
            z = torch.randn(len(real), G.nz)
            if gen_mode:
                for p in D.parameters(): p.requires_grad_(False)
                for p in G.parameters(): p.requires_grad_(True)
                loss = wgan_gen_loss(D(G(z))); loss.backward(); og.step(); og.zero_grad(); ema.update_parameters(G)
            else:
                for p in G.parameters(): p.requires_grad_(False)
                for p in D.parameters(): p.requires_grad_(True)
                fake = G(z).detach(); rp = D(real)
                loss = wgan_crit_loss(rp, D(fake)) + 10*gradient_penalty(D, real, fake) + 1e-3*rp.pow(2).mean()
                loss.backward(); oc.step(); oc.zero_grad()
            assert torch.isfinite(loss)
        def epoch():
            perm = torch.randperm(len(faces))
            for i in range(n_batches):
                real = faces.images[perm[i*bs:(i+1)*bs]].float().div_(255).sub_(0.5).div_(0.5)
                flip = torch.rand(bs) < 0.5; real[flip] = real[flip].flip(-1)
                step(real, gen_mode=bool(i % 2))
        epoch()
        t0 = time.perf_counter(); epoch(); t_pl = time.perf_counter() - t0
        real = faces.images[:bs].float().div(127.5).sub(1)
        flops = _count_flops(lambda: (step(real, False), step(real, True))) / 2   # per batch: the average of a critic and a generator step
        n = bs*n_batches
        mfu = flops * n_batches / t_fa / peak
        results.update({f'train_stylegan_{size}_img_s_fastai': n/t_fa, f'train_stylegan_{size}_img_s_plain': n/t_pl,
                        f'train_stylegan_{size}_fastai_over_plain': t_pl/t_fa, f'train_stylegan_{size}_gflop_per_batch': flops/1e9,
                        f'train_stylegan_{size}_mfu': mfu})
        print(f"train stylegan {size}x{size}, batch {bs}, ngf/ndf 16: fastai {n/t_fa:6.1f} img/s, plain PyTorch {n/t_pl:6.1f} img/s, "
              f"ratio {t_pl/t_fa:.3f}  (target >= 0.95); {flops/1e9:.2f} GFLOP per batch, MFU {100*mfu:.1f}% of the matmul rate")
    if not seconds: return
    import warnings
    from fastai.callback.core import Callback, CancelFitException
    from face_synthesis.train import train
    from face_synthesis.run import Run, config_path
    from face_synthesis.eval_run import evaluate_run
    class TimeLimit(Callback):
        def before_fit(self): self.t0 = time.perf_counter()
        def after_batch(self):
            if time.perf_counter() - self.t0 > seconds: raise CancelFitException()
    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for cfg in ('synthfaces-wgangp', 'synthfaces-stylegan'):
            run = train(config_path(cfg), d, overrides={'optim.epochs': 1000, 'eval.every': 0, 'eval.metrics': ()}, progress=False, log=lambda *a: None, cbs=[TimeLimit()])
            s = Run(run).summary
            m = json.loads(evaluate_run(run, n=eval_n, metrics='fid', progress=False).read_text())
            key = cfg.replace('synthfaces-', '')
            results.update({f'equal_time_{key}_swd': s['swd_final'], f'equal_time_{key}_swd_init': s['swd_init'], f'equal_time_{key}_fid': m['fid'],
                            f'equal_time_{key}_iterations': s['iterations']})
            print(f"{seconds} s of training on SynthFaces 32 px, {cfg}: {s['iterations']} iterations, SWD {s['swd_init']:.1f} -> {s['swd_final']:.1f}, "
                  f"FID {m['fid']:.1f} at n={eval_n}")
    print(f"StyleGAN vs WGAN-GP DCGAN at {seconds} s: SWD {results['equal_time_stylegan_swd']:.1f} vs {results['equal_time_wgangp_swd']:.1f}, "
          f"FID {results['equal_time_stylegan_fid']:.1f} vs {results['equal_time_wgangp_fid']:.1f}  (goal: StyleGAN <= DCGAN)")

def bench_fid(results, n=128):
    "FID feature extraction speed, and what the real-feature cache saves on a second evaluation."
    import warnings, numpy as np
    from PIL import Image
    from face_synthesis.data.faces import shared_data, list_files
    from face_synthesis.data.synth import SynthFaces
    from face_synthesis.metrics.fid import InceptionFeatures, extract_features, real_features
    from face_synthesis.metrics.evaluate import evaluate
    warnings.simplefilter('ignore')
    inc = InceptionFeatures()
    x = (SynthFaces(64, 8, size=64).render(np.arange(2*n))['image'] * 255).round().to(torch.uint8)
    t0 = time.perf_counter(); extract_features(x[:n], inc, bs=64, progress=False); t = time.perf_counter() - t0
    results['fid_features_img_s'] = n/t
    print(f"FID Inception features, 64 px -> 299, batch 64, {torch.get_num_threads()} threads: {n/t:6.1f} img/s")
    with tempfile.TemporaryDirectory() as d:
        utk = shared_data('utkface')
        real = Path(d)/'real'; real.mkdir()
        if utk is not None:
            for f in [f for f in list_files(utk) if f.suffix == '.jpg'][:n]: (real/f.name).symlink_to(utk/f)
        else:
            for i,im in enumerate(x[n:]): Image.fromarray(im.permute(1,2,0).numpy()).save(real/f'{i}.png')
        cache = Path(d)/'cache'
        t0 = time.perf_counter(); real_features(real, inc, cache_dir=cache, progress=False); t_cold = time.perf_counter() - t0
        t0 = time.perf_counter(); real_features(real, inc, cache_dir=cache, progress=False); t_warm = time.perf_counter() - t0
        results['fid_real_stats_cold_s'], results['fid_real_stats_cached_s'] = t_cold, t_warm
        results['fid_real_stats_cache_speedup'] = t_cold/t_warm
        print(f"FID real statistics of {n} images: extracted {t_cold:.1f} s, from cache {t_warm:.2f} s: {t_cold/t_warm:.0f}x  (target >= 10x)")
        shutil.rmtree(cache)
        fake1, fake2 = x[:n], x[n:]
        t0 = time.perf_counter(); evaluate(real, fake1, 'fid,kid', cache_dir=cache, progress=False); t1 = time.perf_counter() - t0
        t0 = time.perf_counter(); evaluate(real, fake2, 'fid,kid', cache_dir=cache, progress=False); t2 = time.perf_counter() - t0
        results['fid_eval_first_s'], results['fid_eval_second_s'] = t1, t2
        results['fid_eval_second_speedup'] = t1/t2
        print(f"FID+KID evaluation, {n} real vs {n} new fakes: first {t1:.1f} s, second (real cached) {t2:.1f} s: {t1/t2:.1f}x "
              f"(the fakes are always new, so with equal counts this is bounded by ~2x)")

def bench_embed(results, n=2048):
    "Identity-embedding extraction speed (FaceNet at 160 px and the small ArcFace CNN at 32 px), and the cached second pass."
    import warnings
    from face_synthesis.data.synth import SynthFaces
    from face_synthesis.data.loaders import FaceImages
    from face_synthesis.models.encoders import FaceNetEncoder, ConvEncoder, embed_images, cached_embeddings
    warnings.simplefilter('ignore')
    faces = FaceImages.from_synth(SynthFaces(n//8, 8, size=64, held_out=0.), 'train')
    fn = FaceNetEncoder(None)   # random weights: the same network and cost as vggface2
    m = 128
    t0 = time.perf_counter(); embed_images(fn, faces.images[:m], bs=64); t = time.perf_counter() - t0
    results['embed_facenet_img_s'] = m/t
    print(f"identity embeddings, FaceNet InceptionResnetV1 (64 px -> 160), {torch.get_num_threads()} threads: {m/t:6.1f} img/s")
    enc = ConvEncoder('res', 64, size=32).eval()
    with tempfile.TemporaryDirectory() as d:
        for name, e, k in (('FaceNet', fn, 512), ('ArcFace CNN 32 px', enc, n)):   # FaceNet: a realistic folder size
            sub = FaceImages(faces.images[:k], faces.identity[:k])
            t0 = time.perf_counter(); cached_embeddings(e, sub, d, progress=False); t_cold = time.perf_counter() - t0
            t0 = time.perf_counter(); _, info = cached_embeddings(e, sub, d, progress=False); t_warm = time.perf_counter() - t0
            assert info['hit']
            key = 'facenet' if e is fn else 'conv'
            results[f'embed_{key}_cold_s'], results[f'embed_{key}_cached_s'] = t_cold, t_warm
            results[f'embed_{key}_cache_speedup'] = t_cold/t_warm
            print(f"embedding cache, {name}, {k} images: computed {t_cold:.2f} s ({k/t_cold:.0f} img/s), cached {t_warm:.3f} s: {t_cold/t_warm:.0f}x  (target >= 50x)")

def bench_widgets(results, reps=30):
    """Widget update latency at 64 px on the CPU: what one slider event costs once the debounce fires (generator forward,
    PNG encoding, similarities for the identity explorer, the loss plot for the epoch viewer)."""
    import io, json, numpy as np, pandas as pd
    from PIL import Image
    from face_synthesis.models.dcgan import DCGANGenerator
    from face_synthesis.models.conditional import SACondGenerator
    from face_synthesis.models.encoders import ConvEncoder
    from face_synthesis.widgets import LatentExplorer, IdentityExplorer, EpochViewer, pca_directions
    torch.manual_seed(0)
    def lat(change):
        "Milliseconds from a control change to the new picture in the widget (one redraw), median and p90."
        ts = []
        for i in range(reps):
            t0 = time.perf_counter(); change(i); ts.append(1000*(time.perf_counter() - t0))
        return np.median(ts), np.percentile(ts, 90)
    G = DCGANGenerator(64, nz=100, ngf=64).eval()   # the utkface-dcgan-64 generator (weights do not change the cost)
    for n in (1, 4):
        ex = LatentExplorer(G, pca_directions(G, k=8, n=512), n=n, debounce=0)
        med, p90 = lat(lambda i: ex.set(PC0=(i % 7) - 3.))
        results[f'widget_latent_64_n{n}_ms'] = med
        print(f"latent explorer, DCGAN 64 px, {n} image(s): update {med:6.1f} ms median, {p90:6.1f} ms p90 (+30 ms debounce)  (target <= 200 ms)")
    Gc = SACondGenerator(64, emb_dim=64, nz=100, ngf=64, attn_at=32).eval()
    enc = ConvEncoder('res', 64, size=64).eval()
    faces = {f'id {i}': torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8) for i in range(4)}
    ix = IdentityExplorer(Gc, enc, faces, n=6, debounce=0)
    med, p90 = lat(lambda i: ix.set(seed=i + 1))
    results['widget_identity_64_n6_ms'] = med
    print(f"identity explorer, SA-cGAN 64 px, 6 variations + similarities: update {med:6.1f} ms median, {p90:6.1f} ms p90  (target <= 200 ms)")
    with tempfile.TemporaryDirectory() as d:
        run = Path(d)/'run'; (run/'grids').mkdir(parents=True); (run/'logs').mkdir()
        idx = []
        for e in range(21):
            Image.fromarray(np.random.randint(0, 255, (530, 530, 3), np.uint8)).save(run/'grids'/f'epoch_{e:04d}.png')
            idx.append(dict(epoch=e, iteration=e*60, path=f'grids/epoch_{e:04d}.png'))
        (run/'grids'/'index.json').write_text(json.dumps(idx))
        it = np.arange(1, 1261)
        pd.DataFrame(dict(iteration=it, epoch=(it-1)//60 + 1, mode=np.where(it % 2, 'gen', 'crit'), loss=np.random.randn(len(it)))).to_csv(run/'logs'/'losses.csv', index=False)
        v = EpochViewer(run, scale=1)
        med, p90 = lat(lambda i: v.show((i + 1) % 21))
        results['widget_epoch_ms'] = med
        print(f"epoch viewer, 8x8 grid of 64 px + loss plot: update {med:6.1f} ms median, {p90:6.1f} ms p90 (first view of an epoch draws its plot; later views are cached)")

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--no-compile', action='store_true', help='skip the torch.compile measurement (about a minute)')
    p.add_argument('--n-align', type=int, default=512); p.add_argument('--n-plain', type=int, default=2000)
    p.add_argument('--only', help='comma-separated subset: synth,prep,train,stylegan,fid,embed,widgets')
    p.add_argument('--stylegan-seconds', type=int, default=300, help='training seconds of each model in the StyleGAN vs DCGAN comparison (0: skip it)')
    p.add_argument('--fid-n', type=int, default=128, help='images per set in the FID benchmark')
    p.add_argument('--train-batches', type=int, default=12, help='batches per timed training epoch')
    a = p.parse_args()
    res = dict(machine=platform.processor() or platform.machine(), cpus=os.cpu_count(), torch=torch.__version__)
    print(f"face_synthesis benchmarks on {res['cpus']} CPUs, torch {torch.__version__}")
    only = set(a.only.split(',')) if a.only else {'synth', 'prep', 'train', 'stylegan', 'fid', 'embed', 'widgets'}
    if 'synth' in only: bench_synthfaces(res, not a.no_compile)
    if 'prep' in only: bench_prep(res, a.n_align, a.n_plain)
    if 'train' in only: bench_training(res, n_batches=a.train_batches)
    if 'stylegan' in only: bench_stylegan(res, n_batches=a.train_batches, seconds=a.stylegan_seconds)
    if 'fid' in only: bench_fid(res, a.fid_n)
    if 'embed' in only: bench_embed(res)
    if 'widgets' in only: bench_widgets(res)
    from face_synthesis.core import atomic_write_json
    atomic_write_json(Path('runs/bench/bench.json'), res)
    print(Path('runs/bench/bench.json'))
