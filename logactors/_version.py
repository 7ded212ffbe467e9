"""The package version (a leaf module: sinks read it without importing the package)."""

__version__ = "0.1.0"
