"""Loading user code by name: ``"package.module:Name"`` and the ``logactors.sinks`` entry points.

A leaf module (it imports nothing from logactors), so the configuration, the enrichers and the
sink factory can all use it without importing each other.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import Any

__all__ = ["ENTRY_POINT_GROUP", "entry_point_sinks", "load_object"]

ENTRY_POINT_GROUP = "logactors.sinks"


def load_object(path: str) -> Any:
    """Import ``"package.module:Name"`` (dotted attributes allowed after the colon)."""
    module_name, _, attribute = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def entry_point_sinks() -> dict[str, metadata.EntryPoint]:
    """Sinks registered by installed packages under the ``logactors.sinks`` group."""
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}
