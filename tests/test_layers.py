"""The package's structure: notebook numbers are layers. Read from the source (not by importing it), every module of
face_synthesis may import only modules whose notebook has a lower number, so there is no circle and no module reaches
up the stack. Imports inside functions count as much as those at the top."""
import ast, json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = 'face_synthesis'

def notebook_layers() -> dict:
    "module name → (notebook number, notebook name), from the `#| default_exp` cell of each notebook."
    out = {}
    for nb in sorted((ROOT/'nbs').glob('[0-9]*.ipynb')):
        for c in json.loads(nb.read_text())['cells']:
            m = re.search(r'^#\|\s*default_exp\s+(\S+)', ''.join(c['source']), re.M)
            if m: out[f'{PKG}.{m.group(1)}'] = (int(nb.name.split('_')[0]), nb.stem); break
    return out

def module_of(path: Path) -> str:
    return '.'.join(path.relative_to(ROOT).with_suffix('').parts)

def package_imports(path: Path, modules: set) -> set:
    "The package modules that `path` imports anywhere in its source (relative and absolute, `from pkg import submodule` too)."
    mod = module_of(path); pkg = mod.rsplit('.', 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import): names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = pkg.split('.')[:len(pkg.split('.')) - node.level + 1]
                base = '.'.join(parts + ([node.module] if node.module else []))
            names = [base] + [f'{base}.{a.name}' for a in node.names]
        else: continue
        found |= {n for n in names if n in modules and n != mod}
    return found

def test_every_notebook_module_exists():
    layers = notebook_layers()
    assert len(layers) >= 20, layers
    for m in layers: assert (ROOT/Path(*m.split('.'))).with_suffix('.py').exists(), f"{m}: notebook exports it but the file is missing (run nbdev_export)"

def test_modules_import_only_lower_layers():
    layers = notebook_layers(); bad = []
    for path in sorted((ROOT/PKG).rglob('*.py')):
        mod = module_of(path)
        if mod not in layers: continue
        for dep in sorted(package_imports(path, set(layers))):
            if layers[dep][0] >= layers[mod][0]: bad.append(f"{layers[mod][1]} ({mod}) imports {layers[dep][1]} ({dep})")
    assert not bad, "modules importing a later (or the same) layer:\n" + '\n'.join(bad)

def test_the_checker_finds_an_upward_import(tmp_path):
    "The check itself can fail: a module importing a higher layer, relatively and from inside a function, is caught."
    (tmp_path/PKG).mkdir()
    f = tmp_path/PKG/'core.py'
    f.write_text("import os\ndef f():\n    from .train import train\n    from face_synthesis.models import dcgan\n")
    global ROOT
    old, ROOT = ROOT, tmp_path
    try: deps = package_imports(f, {f'{PKG}.train', f'{PKG}.models.dcgan', f'{PKG}.core'})
    finally: ROOT = old
    assert deps == {f'{PKG}.train', f'{PKG}.models.dcgan'}, deps
