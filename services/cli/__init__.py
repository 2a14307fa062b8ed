"""The `wenyuan` command: batches (main.py), the demo (demo.py), organisations, keys, grants and the
audit log (access.py), backup and restore (backup.py)."""

from services.cli import backup as _backup  # noqa: F401  (registers `wenyuan admin backup`, `restore`…)
from services.cli import demo as _demo  # noqa: F401  (registers `wenyuan demo`)
from services.cli.access import register
from services.cli.main import app

register(app)

__all__ = ["app"]
