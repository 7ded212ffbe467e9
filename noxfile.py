"""Developer sessions: ``nox -s tests lint typing bench docs demo``."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typing", "tests"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.11", "3.12", "3.13"]


@nox.session(python=PYTHON[0])
def tests(session: nox.Session) -> None:
    """Run the test suite."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON[0])
def lint(session: nox.Session) -> None:
    """ruff (lint and format check)."""
    session.install("ruff")
    session.run(
        "ruff",
        "check",
        "logactors",
        "tests",
        "benchmarks",
        "examples",
        "noxfile.py",
        "docs/conf.py",
        "docs/_ext",
    )


@nox.session(python=PYTHON[0])
def typing(session: nox.Session) -> None:
    """mypy --strict over the package."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "logactors")


@nox.session(python=PYTHON[0])
def bench(session: nox.Session) -> None:
    """Every benchmark suite (``python -m benchmarks``): against stdlib logging, loguru,
    structlog, picologging and a bare pipeline, plus thread producers, writers, the stdlib
    bridge, shipping and the profile; prints the goals with verdicts and writes the results
    file under ``benchmarks/results/``.

    ``nox -s bench -- --quick`` runs a fast smoke pass; ``-- --only stall,writers`` some suites.
    """
    # otlp-proto and otel: the shipping suite encodes protobuf and looks up the trace context
    session.install("-e", ".[bench,otlp-proto,otel]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session(python=PYTHON[0])
def docs(session: nox.Session) -> None:
    """Build the documentation with warnings as errors."""
    session.install("-e", ".[docs]")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session(python=PYTHON[0])
def demo(session: nox.Session) -> None:
    """Run the demo (``nox -s demo -- --seconds 5``)."""
    session.install("-e", ".")
    session.run("python", "-m", "logactors", "demo", *session.posargs)
