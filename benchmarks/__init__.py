"""Benchmarks of logactors against stdlib logging, loguru, structlog, picologging and a bare
trio pipeline.

Run ``python -m benchmarks`` (or ``nox -s bench``); ``--quick`` is a smoke pass of a few seconds
that asserts nothing about time. Every figure is measured in one process run, in several rounds
that interleave the libraries, and reported as the median of the rounds; the memory figure runs
in a fresh child process so that its RSS baseline is clean. A table of figures, ratios and the
goals is printed and the whole result is saved as JSON in ``benchmarks/results/``.

Modules:

* :mod:`benchmarks.cases`: one class per library with the same call shape (a template with two
  properties written as a JSON/CLEF line to a file).
* :mod:`benchmarks.suites`: the measurements (caller cost, end to end, disabled calls, worker
  threads, memory, metrics cost, shutdown, scaling).
* :mod:`benchmarks.report`: the table, the ratios against the goals, the JSON file
  (``python -m benchmarks.report`` re-renders a saved one).
* :mod:`benchmarks.markdown`: a results file as the generated sections of docs/performance.md
  and the README.
* :mod:`benchmarks.memory_child`: the stalled-sink memory measurement (run as a child process).
* Suites that also run on their own (``python -m benchmarks.<name>``): :mod:`benchmarks.stall`
  (thread producers and the trio loop's lateness), :mod:`benchmarks.writers` (a producer at
  full speed into files and the console), :mod:`benchmarks.bridge` (the stdlib bridge),
  :mod:`benchmarks.shipping` (encoding for HTTP collectors, trace-context cost) and
  :mod:`benchmarks.profile` (where the time goes, measured on the library's own code).
"""

from __future__ import annotations

TEMPLATE = "Processing request {id} for {user}"
"""The message template every library logs (with ``id=<int>``, ``user="bob"``)."""

PERCENT_TEMPLATE = "Processing request %s for %s"
"""The same message for the %-style libraries (stdlib logging, picologging)."""
