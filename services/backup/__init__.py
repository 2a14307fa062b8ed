"""Backup and restore of a whole Wenyuan: `wenyuan admin backup` / `restore` / `check-backup`.

One backup is one directory (manifest.py draws it): an Elasticsearch snapshot of the service's indices and
aliases (snapshot.py), the access database (database.py), and a listing of every bucket's objects with
optionally the objects themselves (objects.py); run.py does the whole of a backup or a restore.
"""

from services.backup.manifest import BackupError, Manifest
from services.backup.run import Report, check_backup, forget_backup, make_backup, restore_backup

__all__ = ["BackupError", "Manifest", "Report", "check_backup", "forget_backup", "make_backup", "restore_backup"]
