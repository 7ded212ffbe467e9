"""Log levels for code that reads or writes level names (formats, log tools such as the CLI).

:class:`Level` and :data:`OFF` are also exported by :mod:`logactors`; here beside them are the
function that parses a level argument the way every logactors option does, and the name tables
the formats use.
"""

from __future__ import annotations

from ._levels import OFF as OFF
from ._levels import SERILOG_NAMES as SERILOG_NAMES
from ._levels import SHORT_NAMES as SHORT_NAMES
from ._levels import Level as Level
from ._levels import level_name as level_name
from ._levels import parse_level as parse_level
from ._levels import round_level as round_level

__all__ = [
    "OFF",
    "SERILOG_NAMES",
    "SHORT_NAMES",
    "Level",
    "level_name",
    "parse_level",
    "round_level",
]
