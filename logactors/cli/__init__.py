"""The ``logactors`` command (``python -m logactors``): ``demo`` and ``view``.

``demo`` runs a self-contained trio application that shows the supervisor at work (see
:mod:`logactors.cli.demo`); ``view`` pretty-prints CLEF and JSON-lines log files (see
:mod:`logactors.cli.view`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``logactors`` command."""
    from . import demo, view

    parser = argparse.ArgumentParser(
        prog="logactors",
        description="Actor-based, supervised, non-blocking structured logging for trio.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo_parser = commands.add_parser(
        "demo",
        help="run a live demo: workers, a flaky HTTP collector, breaker, spool, metrics",
        description=demo.DESCRIPTION,
        epilog=demo.EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_arguments(demo_parser)
    view_parser = commands.add_parser(
        "view",
        help="pretty-print CLEF / JSON-lines log files (filter, follow)",
        description="Show CLEF and JSON-lines log files (logactors' clef, clef-rendered and "
        "json formats, Serilog's CLEF and similar JSON lines) as coloured, aligned "
        "lines. Exit status: 0, or 1 when a file could not be opened.",
    )
    view.add_arguments(view_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "view":
        from . import view

        return view.run(args)
    from . import demo

    return demo.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
