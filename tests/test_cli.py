"The console entry point: installed, documented, and failing with one clear line."
import csv, json
from pathlib import Path
import pytest
from conftest import cli, last_line, CLI

def test_installed_and_lists_commands():
    assert CLI.exists(), f"{CLI} missing: `pip install -e .` did not install the console script"
    out = cli('--help').stdout
    for c in ('prep', 'synth', 'train', 'demo'): assert c in out
    assert cli('--version').stdout.startswith('face-synthesis 0.')

def test_synth_writes_folder_and_manifest(tmp_path):
    r = cli('synth', tmp_path/'sf', '--n-identities', 6, '--per-identity', 4, '--size', 32, '--no-progress')
    mf = Path(last_line(r))
    assert mf == tmp_path/'sf'/'manifest.csv'
    rows = list(csv.DictReader(open(mf)))
    assert len(rows) == 24 and {r['split'] for r in rows} == {'train', 'test'}
    assert all((tmp_path/'sf'/r['path']).exists() for r in rows)
    meta = json.loads((tmp_path/'sf'/'synthfaces.json').read_text())
    assert meta['n_identities'] == 6 and meta['size'] == 32
    # deterministic: a second render is byte-identical
    cli('synth', tmp_path/'sf2', '--n-identities', 6, '--per-identity', 4, '--size', 32, '--no-progress')
    for r in rows: assert (tmp_path/'sf'/r['path']).read_bytes() == (tmp_path/'sf2'/r['path']).read_bytes()

def test_bad_arguments_exit_2_naming_the_culprit(tmp_path):
    r = cli('prep', tmp_path/'missing', tmp_path/'out', check=False)
    assert r.returncode == 2 and 'missing: no such folder' in r.stderr
    cfg = tmp_path/'prep.yaml'; cfg.write_text('size: big\n')
    (tmp_path/'src').mkdir()
    r = cli('prep', tmp_path/'src', tmp_path/'out', '--config', cfg, check=False)
    assert r.returncode == 2 and "'size'" in r.stderr and 'prep.yaml' in r.stderr, r.stderr
    cfg.write_text('size: 64\nsplit: 1.5\n')
    r = cli('prep', tmp_path/'src', tmp_path/'out', '--config', cfg, check=False)
    assert r.returncode == 2 and "'split'" in r.stderr and '1.5' in r.stderr, r.stderr
    assert not (tmp_path/'out').exists()

def test_weights_offline_error_names_file_and_folder(tmp_path, monkeypatch):
    from face_synthesis.core import resolve_weights, WeightsNotFoundError
    monkeypatch.setenv('FACE_SYNTHESIS_WEIGHTS', str(tmp_path/'w'))
    monkeypatch.setenv('FACE_SYNTHESIS_OFFLINE', '1')
    with pytest.raises(WeightsNotFoundError) as e:
        resolve_weights('20180402-114759-vggface2.pt', url='https://example.invalid/v.pt', what='FaceNet (VGGFace2)')
    msg = str(e.value)
    assert '20180402-114759-vggface2.pt' in msg and str(tmp_path/'w') in msg and 'FACE_SYNTHESIS_WEIGHTS' in msg
    (tmp_path/'w').mkdir(); (tmp_path/'w'/'20180402-114759-vggface2.pt').write_bytes(b'x')
    assert resolve_weights('20180402-114759-vggface2.pt') == tmp_path/'w'/'20180402-114759-vggface2.pt'

def test_demo_writes_sample_sheet(tmp_path):
    r = cli('demo', '--out', tmp_path/'demo', '--no-train')
    assert Path(last_line(r)) == tmp_path/'demo'
    from PIL import Image
    im = Image.open(tmp_path/'demo'/'synthfaces_sheet.png')
    assert im.size[0] >= 8*64 and im.size[1] >= 8*64
