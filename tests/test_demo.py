"""The demo is the package's main job (identity-conditioned synthesis on SynthFaces): it must train, the result must be
measurably better than the start, and faces generated for held-out identities must keep their identity."""
import json
from pathlib import Path
from conftest import cli, last_line

def test_demo_trains_and_halves_swd(tmp_path):
    r = cli('demo', '--out', tmp_path/'demo', timeout=1500)
    run = Path(last_line(r))
    assert run == tmp_path/'demo'/'run'
    s = json.loads((run/'summary.json').read_text())
    assert s['swd_final'] <= 0.5*s['swd_init'], s          # the demo's bar: final SWD at most half of the SWD at init
    # zero-shot identity, judged by a network trained apart from the conditioning encoder (the demo's bar: AUC >= 0.9)
    assert s['model'] == 'sa-cgan' and s['id_auc'] >= 0.90, s
    # identity factors read back from generated faces, against what the embedding allows (the Results page explains the
    # bounds): the generator renders what the embedding carries (R² within 0.1 of a faithful sampler's 2e - 1, and at least
    # 0.8 of the perfect generator's score when averaged over noise), and the bounds are ordered as they must be: a perfect
    # generator scores between the generator and the reader on real photos, or the bound is computed wrongly
    assert s['id_factor_r2_real'] >= 0.7 and s['id_factor_r2_each']['skin_tone'] >= 0.5 and s['id_factor_r2_each']['hair_color'] >= 0.5, s
    assert s['id_factor_r2'] >= 0.2 and s['id_factor_corr_each']['nose_length'] >= 0.4, s
    assert s['id_factor_r2'] >= s['id_factor_r2_sampler'] - 0.1 and s['id_factor_r2_noise_mean'] > s['id_factor_r2'], s
    assert s['id_factor_r2_noise_mean'] < s['id_factor_r2_oracle'] < s['id_factor_r2_real'], s
    assert s['id_factor_r2_noise_mean'] >= 0.8*s['id_factor_r2_oracle'], s
    assert 'a perfect generator fed these embeddings' in r.stdout
    assert 'SWD' in r.stdout and 'verification AUC' in r.stdout and str(run/'grids') in r.stdout and str(run/'plots') in r.stdout
    for f in ('plots/losses.png', 'plots/samples.png', 'plots/weights.png', 'grids/index.json', 'checkpoints/last.pt',
              'encoder.pt', 'judge.pt', 'identity.png', 'identity.json'):
        assert (run/f).exists(), f
    # running it again reuses the finished run instead of training from scratch
    r2 = cli('demo', '--out', tmp_path/'demo', '--no-train')
    assert Path(last_line(r2)) == tmp_path/'demo' and 'continuing' not in r2.stdout and (run/'summary.json').exists()
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

    # generate: from a photo (a SynthFaces crop, so no MTCNN), from stored embeddings, new identities, an interpolation
    photo = tmp_path/'demo'/'synthfaces_sheet.png'
    from PIL import Image
    Image.open(photo).crop((2, 2, 66, 66)).save(tmp_path/'face.png')
    g = Path(last_line(cli('generate', run, '--from-image', tmp_path/'face.png', '--no-align', '--n', 4, '--out', tmp_path/'g1')))
    assert g == tmp_path/'g1'/'grid.png' and g.exists()
    import numpy as np
    e = np.load(tmp_path/'g1'/'embeddings.npy'); assert s['emb_dim'] == 64 and e.shape == (1, 64), (s.get('emb_dim'), e.shape)
    assert Path(last_line(cli('generate', run, '--from-embedding', tmp_path/'g1'/'embeddings.npy', '--out', tmp_path/'g2'))).exists()
    cli('generate', run, '--random', 3, '--n', 2, '--out', tmp_path/'g3'); assert np.load(tmp_path/'g3'/'embeddings.npy').shape[0] == 3
    cli('generate', run, '--interpolate', tmp_path/'face.png', tmp_path/'g3'/'embeddings.npy', '--no-align', '--steps', 5, '--out', tmp_path/'g4')
    assert np.load(tmp_path/'g4'/'embeddings.npy').shape[0] == 5
    bad = cli('generate', run, '--from-embedding', tmp_path/'face.png', check=False)
    assert bad.returncode == 2 and 'face.png' in bad.stderr
