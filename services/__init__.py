"""Wenyuan (文渊): services — settings, storage, ingestion, access control, gateway and CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("wenyuan")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
