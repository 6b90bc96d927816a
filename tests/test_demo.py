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
