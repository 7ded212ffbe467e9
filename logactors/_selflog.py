"""The self-log: where logactors reports its own problems (never through its own sinks).

Lines go to standard error by default, or to a user callable; ``"off"`` silences them. Messages
are rate-limited per key (a sink's repeated write errors do not flood the terminal); what was
suppressed is summarised when the key speaks again. The newest lines are also kept in memory
(:attr:`SelfLog.recent`) for tests and the demo.
"""

from __future__ import annotations

import collections
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Final

#: ``scheme://user:password@`` in a line: the password is masked (a sink's URL, an error text)
_URL_CREDENTIALS: Final = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*:)[^\s@/?#]+(?=@)")
_BURST: Final = 5
_WINDOW: Final = 10.0


class SelfLog:
    """A rate-limited, thread-safe, never-raising line writer."""

    def __init__(
        self, target: object = "stderr", *, burst: int = _BURST, window: float = _WINDOW
    ) -> None:
        self._target = target
        self._burst = burst
        self._window = window
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[float, int, int]] = {}  # key -> (window start, sent, muted)
        self.recent: collections.deque[str] = collections.deque(maxlen=200)
        self.count = 0

    def __call__(self, message: str, *, key: str | None = None) -> None:
        """Report ``message``; repeated messages with the same ``key`` are rate-limited."""
        try:
            if "@" in message:
                message = _URL_CREDENTIALS.sub(r"\1***", message)
            line = self._admit(message, key)
            if line is not None:
                self._emit(line)
        except Exception:  # pragma: no cover - the self-log must never raise
            pass

    def _admit(self, message: str, key: str | None) -> str | None:
        now = time.monotonic()
        with self._lock:
            self.count += 1
            self.recent.append(message)
            if key is None:
                return message
            start, sent, muted = self._keys.get(key, (now, 0, 0))
            if now - start >= self._window:
                if muted:
                    message = f"{message} ({muted} similar messages suppressed)"
                self._keys[key] = (now, 1, 0)
                return message
            if sent < self._burst:
                self._keys[key] = (start, sent + 1, muted)
                return message
            self._keys[key] = (start, sent, muted + 1)
            return None

    def _emit(self, line: str) -> None:
        target = self._target
        if target == "off":
            return
        if callable(target):
            writer: Callable[[str], object] = target
            writer(line)
            return
        stream = sys.__stderr__ if sys.stderr is None else sys.stderr
        if stream is not None:
            stamp = time.strftime("%H:%M:%S")
            stream.write(f"logactors {stamp}: {line}\n")
            stream.flush()
