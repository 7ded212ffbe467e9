"""Bridge from the stdlib :mod:`logging` module into logactors.

``LogactorsHandler(log)`` is a :class:`logging.Handler`; ``log.capture_stdlib(level="info")``
installs one on the root logger while the context is active (setting the root level and
replacing its handlers) and restores both afterwards. Works from any thread.

A record is taken as the record, not its internals. It becomes one call of the logger's public
level method (so the capture rules, redaction and enrichment of an ordinary call apply):

* the template is ``record.getMessage()``, rendered now and written as text (its braces
  doubled, so it renders as itself; not remembered among the program's templates); a record
  whose ``%``-format fails keeps its raw ``msg`` and gets the property ``format_error``
  (counted, said once on the self-log; never stdlib's "--- Logging error ---");
* the record's name is the event's logger name (``LogEvent.logger``: ``SourceContext`` in CLEF,
  ``logger`` in the other formats), its level the event's level;
* properties: every ``extra=`` field (a record attribute that a plain :class:`logging.LogRecord`
  does not have) and the record attributes named in ``record_attributes`` (none by default:
  stdlib's default format shows only the level, the name and the message);
* ``record.args`` is never copied: a library may pass anything there (hypercorn's access log
  passes a mapping holding the whole process environment). A mapping of args is taken only when
  asked, with ``mapping_args=True`` (every key) or a collection of the keys to take;
* ``exc_info`` becomes the event's exception, ``stack_info`` the property ``stack``.

One named logger is kept per stdlib logger name. Records emitted while a sink is writing (an
HTTP client's own request log) are never forwarded, so a sink can never feed itself: they are
counted (:meth:`LogactorsHandler.statistics`) and the self-log says so once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs

from ._cache import remember
from ._capture import Text
from ._core.handoff import IN_SINK
from ._facade import METHOD_FOR
from ._json import safe_str
from ._levels import parse_level, round_level
from .exceptions import ConfigError

if TYPE_CHECKING:
    from ._facade import BoundLogger, LogMethod


__all__ = [
    "RECORD_ATTRIBUTES",
    "BridgeStatistics",
    "LogactorsHandler",
    "capture_stdlib",
    "in_sink_context",
    "sink_context",
]

_PLAIN: Final = logging.LogRecord("", 0, "", 0, "", None, None).__dict__
#: the attributes of a plain record (plus what formatters add): everything else is ``extra``
_STANDARD: Final = frozenset(_PLAIN) | {"message", "asctime", "taskName"}
_PLAIN_SIZE: Final = len(_PLAIN)
#: record attributes that ``record_attributes`` may name (each becomes a property of that name)
RECORD_ATTRIBUTES: Final = frozenset(_PLAIN) - {"args", "exc_info", "exc_text", "stack_info"} | {
    "taskName"
}
#: keyword names of the level methods: an ``extra`` field of that name gets a ``_`` suffix
_RESERVED: Final = frozenset({"exc_info", "stack_info", "stacklevel", "extra"})
_METHOD_NAMES: Final = METHOD_FOR
#: stdlib level numbers (and logactors' TRACE) straight to a method name
_BY_LEVELNO: Final = {int(level): name for level, name in _METHOD_NAMES.items()}
_NAMED_CACHE_LIMIT: Final = 4096
_NO_PROPERTIES: Final[dict[str, Any]] = {}


class _Guard(threading.local):
    depth = 0  # a class default: reading it in a new thread raises nothing (fast path)


_guard = _Guard()


def in_sink_context() -> bool:
    """Whether the current task or thread works for a sink (its records must not loop back).

    True inside every sink actor's task and the worker threads it starts, and inside
    :func:`sink_context` (for sinks that run their own threads).
    """
    return IN_SINK.get() or _guard.depth > 0


@contextlib.contextmanager
def sink_context() -> Iterator[None]:
    """Mark the current thread as working for a sink (for threads a sink starts itself)."""
    _guard.depth += 1
    try:
        yield
    finally:
        _guard.depth -= 1


@attrs.frozen
class BridgeStatistics:
    """What a :class:`LogactorsHandler` did with the records it was given.

    Attributes:
        format_errors: records whose ``%``-format failed (logged with the raw message).
        feedback: records emitted while a sink was writing: not forwarded, to avoid a loop.
        failed: records the bridge itself could not handle (an internal error; self-logged).
    """

    format_errors: int
    feedback: int
    failed: int


def _check_attributes(names: Iterable[str]) -> tuple[str, ...]:
    chosen = (names,) if isinstance(names, str) else tuple(names)
    unknown = [n for n in chosen if n not in RECORD_ATTRIBUTES]
    if unknown:
        accepted = ", ".join(sorted(RECORD_ATTRIBUTES))
        raise ConfigError(
            f"record_attributes: {', '.join(map(repr, unknown))} is not a LogRecord attribute "
            f"(accepted: {accepted})"
        )
    return chosen


class LogactorsHandler(logging.Handler):
    """A :class:`logging.Handler` that forwards records to a logactors logger.

    Args:
        log: a :class:`~logactors.Logger`, a module-level proxy or a thread-hosted logger.
        level: the handler's level (stdlib semantics).
        record_attributes: :class:`logging.LogRecord` attributes to add as properties of the
            same name (``"threadName"``, ``"process"``, ``"pathname"``, ``"lineno"``,
            ``"funcName"`` …; see :data:`RECORD_ATTRIBUTES`). None by default.
        mapping_args: take the items of a mapping passed as the record's args
            (``log.info("%(user)s", {"user": ...})``) as properties: ``True`` for every key, or
            a collection of the keys to take. Off by default (args are never copied otherwise).

    Raises:
        ConfigError: ``record_attributes`` names something that is not a record attribute.
    """

    def __init__(
        self,
        log: BoundLogger,
        level: int | str = logging.NOTSET,
        *,
        record_attributes: Iterable[str] = (),
        mapping_args: bool | Collection[str] = False,
    ) -> None:
        super().__init__(level)
        self._log = log
        self._attributes = _check_attributes(record_attributes)
        self._mapping_keys: frozenset[str] | None = (
            None
            if isinstance(mapping_args, bool)
            else frozenset((mapping_args,) if isinstance(mapping_args, str) else mapping_args)
        )
        self._mapping_args = mapping_args is True or self._mapping_keys is not None
        self._detailed = bool(self._attributes) or self._mapping_args
        self._named: dict[str, Any] = {}
        self._said: set[str] = set()
        self._lock = threading.Lock()
        self._format_errors = 0
        self._feedback = 0
        self._failed = 0

    def statistics(self) -> BridgeStatistics:
        """The counts so far."""
        return BridgeStatistics(self._format_errors, self._feedback, self._failed)

    def handle(self, record: logging.LogRecord) -> bool:
        """Filter and emit, without the handler lock (forwarding is thread-safe on its own)."""
        if self.filters:
            result: object = self.filter(record)
            if not result:
                return False
            if isinstance(result, logging.LogRecord):  # Python 3.12: a filter may replace it
                record = result
        self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        """Forward one record as one logging call; never raises."""
        try:
            if IN_SINK.get() or _guard.depth:
                self._from_sink(record)
                return
            props: dict[str, Any]
            try:
                message = record.getMessage()
            except Exception as exc:
                message = self._unformattable(record, exc)
                props = {"format_error": f"{type(exc).__name__}: {safe_str(exc)}"}
            else:
                props = _NO_PROPERTIES
            message = Text(message)  # text, not a template (see logactors._capture.Text)
            name = record.name
            if len(record.__dict__) > _PLAIN_SIZE or self._detailed or props or record.stack_info:
                props = self._properties(record, dict(props))
            named = self._named.get(name)
            if named is None:
                named = self._named_logger(name)
            method_name = _BY_LEVELNO.get(record.levelno)
            if method_name is None:
                method_name = _METHOD_NAMES[round_level(record.levelno)]
            method: LogMethod = getattr(named, method_name)
            if props or record.exc_info:
                method(message, exc_info=record.exc_info or None, **props)
            else:
                method(message)  # the common record: no keywords to pass (a cheaper call)
        except Exception as exc:
            with self._lock:
                self._failed += 1
            self._say_once(
                "failed",
                f"a stdlib record could not be forwarded ({type(exc).__name__}: {safe_str(exc)}); "
                "such records are counted in LogactorsHandler.statistics().failed",
            )

    def _properties(self, record: logging.LogRecord, props: dict[str, Any]) -> dict[str, Any]:
        """Extra fields, chosen record attributes, mapping args and the stack, into ``props``."""
        for key, value in record.__dict__.items():
            if key not in _STANDARD:
                name = key if key.__class__ is str else safe_str(key)
                props[f"{name}_" if name in _RESERVED else name] = value
        for attribute in self._attributes:
            props[attribute] = getattr(record, attribute, None)
        if self._mapping_args:
            self._add_mapping_args(record.args, props)
        if record.stack_info:
            props["stack"] = record.stack_info
        return props

    # -- the uncommon paths ----------------------------------------------------------------------

    def _named_logger(self, name: str) -> Any:
        return remember(self._named, name, self._log.named(name), _NAMED_CACHE_LIMIT)

    def _add_mapping_args(self, args: object, props: dict[str, Any]) -> None:
        if not isinstance(args, Mapping):
            return
        keys = self._mapping_keys
        for key, value in args.items():
            if key.__class__ is not str or (keys is not None and key not in keys):
                continue
            props.setdefault(f"{key}_" if key in _RESERVED else key, value)

    def _unformattable(self, record: logging.LogRecord, exc: Exception) -> str:
        """A record whose ``%``-format failed: its raw message, counted and said once."""
        with self._lock:
            self._format_errors += 1
        self._say_once(
            "format",
            f"a stdlib record of logger {record.name!r} could not be %-formatted "
            f"({type(exc).__name__}); it was logged with its raw message and the property "
            "format_error; such records are counted in LogactorsHandler.statistics()",
        )
        return safe_str(record.msg)

    def _from_sink(self, record: logging.LogRecord) -> None:
        """A record a sink's own I/O emitted: counted, never forwarded (no feedback loop)."""
        with self._lock:
            self._feedback += 1
        self._say_once(
            "feedback",
            f"stdlib records emitted while a sink writes (first: logger {record.name!r}, "
            f"{record.levelname}) are not forwarded, to avoid a feedback loop; they are counted "
            "in LogactorsHandler.statistics().feedback",
        )

    def _say_once(self, key: str, message: str) -> None:
        with self._lock:
            if key in self._said:
                return
            self._said.add(key)
        self_log = _self_log_of(self._log)
        if self_log is not None:
            self_log(message, key=f"stdlib-{key}")


def _self_log_of(log: object) -> Any:
    """The self-log of the runtime behind a logger, proxy or thread-hosted logger, if any."""
    try:
        runtime = getattr(log, "_rt", None)
        if runtime is None:
            target = getattr(log, "_target", None)
            runtime = getattr(target(), "_rt", None) if target is not None else None
        return getattr(runtime, "self_log", None)
    except Exception:
        return None


@contextlib.contextmanager
def capture_stdlib(
    log: BoundLogger,
    level: object = "info",
    *,
    record_attributes: Iterable[str] = (),
    mapping_args: bool | Collection[str] = False,
) -> Iterator[LogactorsHandler]:
    """Route the root stdlib logger into ``log`` while active; restore it afterwards.

    ``record_attributes`` and ``mapping_args`` are those of :class:`LogactorsHandler`.
    """
    root = logging.getLogger()
    handler = LogactorsHandler(log, record_attributes=record_attributes, mapping_args=mapping_args)
    saved_level = root.level
    saved_handlers = root.handlers[:]
    root.handlers = [handler]
    root.setLevel(int(parse_level(level)))
    try:
        yield handler
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
