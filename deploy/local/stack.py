#!/usr/bin/env python3
"""The local stack: install and run Elasticsearch, the S3 server, Airflow and the gateway.

    python3 deploy/local/stack.py install            # idempotent: venv, Elasticsearch, versitygw
    python3 deploy/local/stack.py up                 # install what is missing, start, wait until ready
    python3 deploy/local/stack.py status             # version, URL and pid of each service
    python3 deploy/local/stack.py down               # stop exactly what `up` started (pid files)
    python3 deploy/local/stack.py stop|start|restart SERVICE
    python3 deploy/local/stack.py logs SERVICE

This file only bootstraps with the standard library: it makes `.cache/tools` (a pinned uv,
hash-checked) and the project venv `.venv` synced to `requirements.lock`, then hands over to
`stacklib` running inside the venv, where the project's Settings (WENYUAN_* variables) apply.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
TOOLS = ROOT / ".cache" / "tools"
LOCK = ROOT / "requirements.lock"
MARKER = VENV / ".wenyuan-lock.sha256"


def _run(*cmd: str | Path, env: dict[str, str] | None = None) -> None:
    printable = " ".join(str(c) for c in cmd)
    try:
        subprocess.run([str(c) for c in cmd], check=True, env=env)
    except subprocess.CalledProcessError as exc:
        sys.exit(f"stack: `{printable}` failed with exit code {exc.returncode}")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_python_env() -> None:
    """Create .cache/tools (uv) and .venv, synced to requirements.lock; quick when nothing changed."""
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"stack: Python 3.11 is required, this is {sys.version.split()[0]}; run it with python3.11")
    if MARKER.is_file() and MARKER.read_text().strip() == _fingerprint():
        return
    env = dict(os.environ, UV_CACHE_DIR=str(ROOT / ".cache" / "uv"), PIP_CACHE_DIR=str(ROOT / ".cache" / "pip"))
    uv = TOOLS / "bin" / "uv"
    if not uv.exists():
        print("stack: installing uv (pinned, hash-checked) into .cache/tools", flush=True)
        _run(sys.executable, "-m", "venv", TOOLS)
        _run(TOOLS / "bin" / "pip", "install", "-q", "--require-hashes", "-r", ROOT / "deploy/local/tools.lock",
             env=env)
    if not (VENV / "bin" / "python").exists():
        _run(uv, "venv", "--python", sys.executable, VENV, env=env)
    print("stack: syncing .venv to requirements.lock", flush=True)
    _run(uv, "pip", "sync", "--python", VENV / "bin" / "python", "--require-hashes", LOCK, env=env)
    _run(uv, "pip", "install", "--python", VENV / "bin" / "python", "--no-deps", "-e", ROOT, env=env)
    MARKER.write_text(_fingerprint() + "\n")


def main() -> None:
    ensure_python_env()
    if Path(sys.prefix).resolve() != VENV.resolve():
        python = VENV / "bin" / "python"
        os.execv(python, [str(python), __file__, *sys.argv[1:]])
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from stacklib.cli import run

    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
