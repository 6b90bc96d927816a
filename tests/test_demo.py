"The demo is the package's main job: it must train, and the result must be measurably better than the start."
import json
from pathlib import Path
from conftest import cli, last_line

def test_demo_trains_and_halves_swd(tmp_path):
    r = cli('demo', '--out', tmp_path/'demo', timeout=1500)
    run = Path(last_line(r))
    assert run == tmp_path/'demo'/'run'
    s = json.loads((run/'summary.json').read_text())
    assert s['swd_final'] <= 0.5*s['swd_init'], s          # the bar: final SWD at most half of the SWD at init
    assert 'SWD' in r.stdout and str(run/'grids') in r.stdout and str(run/'plots') in r.stdout
    for f in ('plots/losses.png', 'plots/samples.png', 'plots/weights.png', 'grids/index.json', 'checkpoints/last.pt'):
        assert (run/f).exists(), f
    # running it again reuses the finished run instead of training from scratch
    r2 = cli('demo', '--out', tmp_path/'demo', '--no-train')
    r3 = cli('demo', '--out', tmp_path/'demo')
    assert 'continuing it' in r3.stdout and json.loads((run/'summary.json').read_text())['swd_final'] == s['swd_final']
    # `eval` on the finished run: SWD of the EMA generator on 256 fresh samples agrees with the training monitor's
    # final value (same metric, same sample count, different draws), so the checkpoint's EMA weights were the ones loaded
    r4 = cli('eval', run, '--n', 256, '--metrics', 'swd', '--no-progress', '--no-cache')
    mpath = Path(last_line(r4)); m = json.loads(mpath.read_text())
    assert mpath == run/'eval'/'metrics.json' and (run/'eval'/'report.md').exists() and (run/'eval'/'samples.png').exists()
    assert m['n_fake'] == 256 and abs(m['swd'] - s['swd_final']) <= 0.25*s['swd_final'], (m['swd'], s['swd_final'])
    # and the Inception path end to end (a CI-sized n; FID at this n is biased, the report says so)
    r5 = cli('eval', run, '--n', 40, '--metrics', 'fid,kid', '--no-progress', '--no-cache', '--out', tmp_path/'ev')
    m = json.loads(Path(last_line(r5)).read_text())
    assert m['n_real'] == m['n_fake'] == 40 and m['fid'] > 0 and any('rank-deficient' in w for w in m['warnings']), m
