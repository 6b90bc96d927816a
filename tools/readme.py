"""README.md from nbs/index.ipynb with its saved outputs. nbdev's own `nbdev_readme` needs Quarto, which is not
always installable; this does the same job with nbconvert: `#| hide` cells dropped, `#|` directives stripped,
stderr dropped, images written to README_files/. With Quarto on PATH, `make readme` uses `nbdev_readme` instead."""
import re, sys, shutil
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

def main(nb_path='nbs/index.ipynb', out='README.md'):
    nb = nbformat.read(nb_path, as_version=4)
    cells = []
    for c in nb.cells:
        src = c.source
        if c.cell_type == 'code':
            if re.search(r'^#\|\s*hide\s*$', src, re.M): continue
            c.source = '\n'.join(l for l in src.split('\n') if not l.startswith('#|')).strip()
            c.outputs = [o for o in c.get('outputs', []) if not (o.output_type == 'stream' and o.name == 'stderr')]
            for o in c.outputs:
                if 'data' in o and 'image/png' in o.data: o.data.pop('text/plain', None)
        cells.append(c)
    nb.cells = cells
    files = Path(out).with_suffix('').name + '_files'
    body, res = MarkdownExporter().from_notebook_node(nb, resources=dict(output_files_dir=files))
    # nbdev's `> summary` line becomes the description under the title, as on the docs site
    shutil.rmtree(files, ignore_errors=True)
    for name, data in res.get('outputs', {}).items():
        Path(name).parent.mkdir(parents=True, exist_ok=True); Path(name).write_bytes(data)
    Path(out).write_text('<!-- generated from nbs/index.ipynb by `make readme`; do not edit -->\n\n' + body.strip() + '\n')
    print(out)

if __name__ == '__main__': main(*sys.argv[1:])
