"`face-synthesis prep` on bad input, interrupted runs and the real face sets in ../shared/data."
import csv, json, os, signal, shutil, subprocess, time, sys
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from conftest import cli, last_line, shared, CLI

def _manifest(folder): return list(csv.DictReader(open(Path(folder)/'manifest.csv')))
def _leftovers(folder): return [p for p in Path(folder).rglob('*') if p.name.endswith('.tmp') or 'partial' in p.name]

@pytest.fixture
def messy(tmp_path):
    "A folder with two faces and one file of every kind of bad input."
    from skimage import data
    src = tmp_path/'messy'; src.mkdir()
    face = Image.fromarray(data.astronaut())
    face.save(src/'astronaut.jpg', quality=95)
    face.transpose(Image.FLIP_LEFT_RIGHT).save(src/'mirrored.png')
    shutil.copy(src/'astronaut.jpg', src/'copy_of_astronaut.jpg')                        # duplicate
    (src/'empty.jpg').write_bytes(b'')                                                   # empty
    (src/'notes.jpg').write_text('<html>404 not found</html>')                           # not_image
    (src/'truncated.jpg').write_bytes((src/'astronaut.jpg').read_bytes()[:5000])         # corrupt
    face.resize((24, 24)).save(src/'tiny.png')                                           # too_small
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((256, 256, 3))*40 + 100).astype(np.uint8)).save(src/'wall.png')  # no_face
    return src

def test_messy_folder_reports_every_bad_file(messy, tmp_path):
    out = tmp_path/'prep'
    r = cli('prep', messy, out, '--size', 64, '--split', 0, '--no-progress')
    assert Path(last_line(r)) == out/'manifest.csv'
    rep = json.loads((out/'report.json').read_text())
    assert rep['kept'] == 2, rep
    assert {k: v for k, v in rep['dropped'].items() if v} == dict(empty=1, not_image=1, corrupt=1, too_small=1, duplicate=1, no_face=1)
    why = {d['file']: d['reason'] for d in rep['dropped_files']}
    assert why == {'empty.jpg': 'empty', 'notes.jpg': 'not_image', 'truncated.jpg': 'corrupt', 'tiny.png': 'too_small',
                   'copy_of_astronaut.jpg': 'duplicate', 'wall.png': 'no_face'}
    for f in why: assert f in r.stdout, f"{f} not reported on the console"
    rows = _manifest(out)
    assert sorted(r['source'] for r in rows) == ['astronaut.jpg', 'mirrored.png']
    assert sorted(p.relative_to(out).as_posix() for p in (out/'images').rglob('*.png')) == sorted(r['path'] for r in rows)
    assert all(Image.open(out/r['path']).size == (64, 64) for r in rows)
    assert all(float(r['det_score']) > 0.9 for r in rows)
    assert not _leftovers(out)

def test_killed_run_leaves_no_manifest_and_resumes(tmp_path):
    cli('synth', tmp_path/'sf', '--n-identities', 60, '--per-identity', 20, '--size', 96, '--no-progress')
    src, out = tmp_path/'sf'/'images', tmp_path/'prep'
    args = [str(CLI), 'prep', str(src), str(out), '--no-align', '--size', '64', '--batch-size', '8', '--no-progress']
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = None; t0 = time.time()
    while time.time() - t0 < 120 and p.poll() is None:
        js = list((out/'.prep').glob('journal-*.jsonl')) if (out/'.prep').exists() else []
        if js and len(js[0].read_text().splitlines()) > 100: journal = js[0]; break
        time.sleep(0.05)
    assert p.poll() is None, "prep finished before it could be interrupted; make the input larger"
    p.send_signal(signal.SIGKILL); p.wait()
    assert journal is not None
    assert not (out/'manifest.csv').exists() and not (out/'report.json').exists(), "an interrupted run must not look complete"
    r = cli('prep', src, out, '--no-align', '--size', 64, '--no-progress')
    rep = json.loads((out/'report.json').read_text())
    assert rep['kept'] == 1200 and rep['reused'] >= 100 and rep['processed'] == 1200 - rep['reused'], rep
    assert not _leftovers(out)
    # the resumed result equals an uninterrupted run
    cli('prep', src, tmp_path/'clean', '--no-align', '--size', 64, '--no-progress')
    a, b = _manifest(out), _manifest(tmp_path/'clean')
    strip = lambda rows: [{k: v for k, v in r.items()} for r in rows]
    assert strip(a) == strip(b)
    for r in a: assert (out/r['path']).read_bytes() == (tmp_path/'clean'/r['path']).read_bytes()

UTK_BAD = {'61_1_20170109142408075.jpg.chip.jpg', '61_3_20170109150557335.jpg.chip.jpg'}

def test_utkface_all_files_reports_malformed_names_and_reuses(tmp_path):
    utk = shared('utkface')
    out = tmp_path/'utk'
    r = cli('prep', utk, out, '--no-align', '--size', 64, '--no-progress')
    rep = json.loads((out/'report.json').read_text())
    assert rep['n_files'] == 9780
    bad = {d['file'] for d in rep['dropped_files'] if d['reason'] == 'bad_label'}
    assert bad == UTK_BAD, bad
    for f in UTK_BAD: assert f in r.stdout
    assert rep['kept'] + sum(rep['dropped'].values()) == 9780
    rows = _manifest(out)
    assert len(rows) == rep['kept'] and {'age', 'gender', 'race'} <= set(rows[0])
    assert abs(sum(r['split'] == 'test' for r in rows)/len(rows) - 0.1) < 0.01
    r2 = cli('prep', utk, out, '--no-align', '--size', 64, '--no-progress')
    rep2 = json.loads((out/'report.json').read_text())
    assert rep2['reused'] == 9780 and rep2['processed'] == 0
    assert _manifest(out) == rows

def test_utkface_aligned_subset(tmp_path):
    utk = shared('utkface')
    src = tmp_path/'src'; src.mkdir()
    files = sorted(utk.iterdir())[:48] + [utk/f for f in sorted(UTK_BAD)]
    for f in files: (src/f.name).symlink_to(f)
    r = cli('prep', src, tmp_path/'out', '--size', 64, '--no-progress')
    rep = json.loads((tmp_path/'out'/'report.json').read_text())
    assert rep['dropped']['bad_label'] == 2 and rep['kept'] >= 44, rep   # MTCNN finds nearly every UTKFace face
    rows = _manifest(tmp_path/'out')
    assert all(float(r['det_score']) > 0.8 for r in rows)
    # aligned crops: the two eyes land on one horizontal line, symmetric about the centre
    for r in rows:
        assert Image.open(tmp_path/'out'/r['path']).size == (64, 64)
        lx, ly, rx, ry = (float(r[k]) for k in ('lm_left_eye_x', 'lm_left_eye_y', 'lm_right_eye_x', 'lm_right_eye_y'))
        assert abs(ly - ry) < 1.5 and abs((lx + rx)/2 - 32) < 3 and 10 < rx - lx < 40, r
    cli('prep', src, tmp_path/'out', '--size', 64, '--no-progress')
    rep2 = json.loads((tmp_path/'out'/'report.json').read_text())
    assert rep2['reused'] == len(files) and rep2['processed'] == 0

@pytest.mark.parametrize('name,n_ids,n_files', [('orl', 40, 400), ('yale', 15, 164)])
def test_identity_folders_keep_identities(tmp_path, name, n_ids, n_files):
    src = shared(name)
    r = cli('prep', src, tmp_path/name, '--size', 64, '--split', 0.2, '--no-progress')
    rep = json.loads((tmp_path/name/'report.json').read_text())
    assert rep['n_identities'] == n_ids, rep
    assert rep['n_files'] == n_files + (name == 'orl') and rep['kept'] >= 0.9*n_files, rep   # ORL has a README; Yale's side-lit faces are hard
    rows = _manifest(tmp_path/name)
    # the split is by identity: no identity is on both sides
    by = {}
    for r in rows: by.setdefault(r['identity'], set()).add(r['split'])
    assert all(len(s) == 1 for s in by.values())
    assert sum('test' in s for s in by.values()) == round(0.2*n_ids)
