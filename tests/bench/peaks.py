"""Peak memory of one piece of work, measured in a fresh Python process (the media benches).

`in_fresh_process(module, *args)` runs `python -m <module> --child <args>` and reads the JSON the child prints
last; the child reports `own_peak_kib()`: VmHWM from /proc/self/status, not ru_maxrss, which Linux carries from
the parent across fork + exec (a child of a bench that has just written a 100 MB file would report that peak).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.helpers import ROOT


def own_peak_kib(field: str = "VmHWM") -> int:
    """VmHWM (peak) or VmRSS (now) of this process, KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def in_fresh_process(module: str, *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", module, "--child", *args], check=True, capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
