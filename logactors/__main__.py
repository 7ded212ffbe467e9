"""``python -m logactors`` (and the ``logactors`` console script): ``demo`` and ``view``."""

from __future__ import annotations

import sys

from .cli import main as main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
