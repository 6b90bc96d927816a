"`face-synthesis train`: run folders, exact resume after a kill, clear errors."
import json, signal, subprocess, time
from pathlib import Path
import torch
from conftest import cli, last_line, CLI

TINY = ['--set', 'data.n_identities=12', 'data.per_identity=4', 'model.ngf=8', 'model.ndf=8', 'data.bs=8', 'eval.n=32', 'log.n_grid=16',
        'eval.every=0', 'device=cpu']

def _weights(run):
    from face_synthesis.run import Run
    s = Run(run).state()
    return s, {f'{m}.{k}': v for m in ('generator', 'critic', 'ema') for k, v in s[m].items()}

def test_train_writes_run_folder(tmp_path):
    r = cli('train', '--config', 'synthfaces-wgangp', '--out', tmp_path, '--name', 'tiny', '--epochs', 2, '--no-progress', *TINY,
            'eval.metrics=[kid]', 'eval.metrics_n=16')
    run = Path(last_line(r))
    assert run == tmp_path/'tiny'
    s = json.loads((run/'summary.json').read_text())
    assert {'swd_init', 'swd_final', 'iterations'} <= set(s) and s['epochs'] == 2
    # eval.metrics: evaluate_run after training, into the summary and the printed lines
    m = json.loads((run/'eval'/'metrics.json').read_text())
    assert s['kid_mean'] == m['kid_mean'] and s['eval_n'] == 16 and m['n_fake'] == 16 and 'fid' not in s
    assert f"KID x1e3 {s['kid_mean']*1e3:.1f}" in r.stdout and 'n=16' in r.stdout, r.stdout
    assert 'SWD' in r.stdout and str(run/'grids') in r.stdout
    assert [g['epoch'] for g in json.loads((run/'grids'/'index.json').read_text())] == [0, 1, 2]
    # a second run into the same folder is refused, naming the folder
    r = cli('train', '--out', tmp_path, '--name', 'tiny', '--epochs', 2, *TINY, check=False)
    assert r.returncode == 2 and 'already holds a run' in r.stderr and 'tiny' in r.stderr

def test_killed_training_resumes_exactly(tmp_path):
    cli('train', '--out', tmp_path, '--name', 'full', '--epochs', 4, '--no-progress', *TINY)
    args = [str(CLI), 'train', '--out', str(tmp_path), '--name', 'killed', '--epochs', '4', '--no-progress', *TINY]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ck = tmp_path/'killed'/'checkpoints'/'epoch_0001.pt'
    t0 = time.time()
    while not ck.exists() and time.time() - t0 < 300 and p.poll() is None: time.sleep(0.02)
    assert p.poll() is None, "training finished before it could be killed"
    p.send_signal(signal.SIGKILL); p.wait()
    assert not (tmp_path/'killed'/'summary.json').exists()
    r = cli('train', '--resume', tmp_path/'killed', '--no-progress')
    assert Path(last_line(r)) == tmp_path/'killed'
    (sa, wa), (sb, wb) = _weights(tmp_path/'full'), _weights(tmp_path/'killed')
    assert sa['epoch'] == sb['epoch'] == 4 and sa['iteration'] == sb['iteration']
    for k in wa: assert torch.equal(wa[k], wb[k]), k

def test_config_errors_name_the_key(tmp_path):
    r = cli('train', '--out', tmp_path, '--set', 'optim.lerning_rate=0.1', check=False)
    assert r.returncode == 2 and "unknown key 'optim.lerning_rate'" in r.stderr and 'optim.lr_g' in r.stderr, r.stderr
    r = cli('train', '--out', tmp_path, '--set', 'data.size=48', check=False)
    assert r.returncode == 2 and "'data.size'" in r.stderr and '48' in r.stderr, r.stderr
    r = cli('train', '--out', tmp_path, '--set', 'eval.metrics=[fid,fdi]', check=False)   # refused before any training
    assert r.returncode == 2 and "'eval.metrics[1]'" in r.stderr and 'fdi' in r.stderr and 'ppl_inception' in r.stderr, r.stderr
    r = cli('train', '--out', tmp_path, '--set', 'size=48', check=False)   # a key without its section
    assert r.returncode == 2 and "did you mean 'data.size'" in r.stderr, r.stderr
    r = cli('train', '--config', tmp_path/'missing.yaml', check=False)
    assert r.returncode == 2 and 'missing.yaml' in r.stderr and 'synthfaces-wgangp' in r.stderr, r.stderr
    r = cli('train', '--resume', tmp_path/'nothing', check=False)
    assert r.returncode == 2 and 'nothing' in r.stderr

def test_resume_refuses_overrides_it_cannot_honour(tmp_path):
    cli('train', '--out', tmp_path, '--name', 'r', '--epochs', 1, '--no-progress', *TINY)
    r = cli('train', '--resume', tmp_path/'r', '--epochs', 2, '--set', 'model.ngf=16', check=False)
    assert r.returncode == 2 and "cannot change 'model.ngf'" in r.stderr, r.stderr
    assert not (tmp_path/'r'/'checkpoints'/'epoch_0002.pt').exists()
    cli('train', '--resume', tmp_path/'r', '--epochs', 2, '--set', 'eval.every=1', '--no-progress')   # a resumable override
    assert (tmp_path/'r'/'checkpoints'/'epoch_0002.pt').exists()
