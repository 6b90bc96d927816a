"Shared fixtures: the installed CLI and the real face sets in ../shared/data."
import os, sys, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).parent/'face-synthesis'

def shared(name: str) -> Path:
    "A folder of ../shared/data (or $FACE_SYNTHESIS_DATA), or skip the test saying why."
    from face_synthesis.data.faces import shared_data
    p = shared_data(name)
    if p is None: pytest.skip(f"real face data '{name}' not found: put it in ../shared/data/{name} or set FACE_SYNTHESIS_DATA")
    return p

def cli(*args, check=True, timeout=1800, **kw) -> subprocess.CompletedProcess:
    "Run the installed `face-synthesis` console script."
    env = {**os.environ, 'FACE_SYNTHESIS_DEVICE': 'cpu', **kw.pop('env', {})}
    r = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"face-synthesis {' '.join(map(str, args))} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r

def last_line(r) -> str: return r.stdout.strip().splitlines()[-1]
