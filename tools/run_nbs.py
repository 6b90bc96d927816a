"""Execute notebooks in place to refresh their saved outputs (for the docs), skipping what `nbdev_test` skips:
cells flagged with a test flag (`#| slow`, `#| cuda`), `#| eval: false`, and the `nbdev_export()` cell.
Unlike `jupyter nbconvert --execute`, which runs every cell (a `#| slow` cell trains for hours).
Usage: python tools/run_nbs.py nbs/40_learner.core.ipynb ... ; set IN_TEST=1 for the CI-sized settings."""
import os, sys, re
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

FLAGS = {'slow', 'cuda'}

def skip(cell)->bool:
    if cell.cell_type != 'code': return True
    if 'nbdev_export' + '(' in cell.source: return True
    d = [l[3:].strip() for l in cell.source.splitlines() if l.startswith('#|')]
    return any(x in FLAGS or re.match(r'eval:\s*false', x) for x in d)

def run(path):
    path = Path(path).resolve()
    nb = read_nb(path)
    for c in nb.cells:
        if c.cell_type == 'code' and skip(c): c['outputs'], c['execution_count'] = [], None
    cwd = os.getcwd(); os.chdir(path.parent)
    try: CaptureShell(path).run_all(nb, exc_stop=True, preproc=skip)
    finally: os.chdir(cwd)
    write_nb(nb, path)
    print(path)

if __name__ == '__main__':
    for p in sys.argv[1:]: run(p)
