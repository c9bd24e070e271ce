"""The installed version of handouts (one place: ``pyproject.toml``)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("handouts")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
