"""The logger's level methods, generated from one template: compiled once per runtime, level
and kind of logger (with or without properties to merge), and held by that runtime's logger
class of that kind (:class:`logactors._logger.LoggerTypes`).

A level method (``log.info`` …) is the hottest code of the library, and what it must do depends
on the runtime: whether redaction scans strings, whether an OpenTelemetry getter exists, whether
the logger has bound properties, whether a pipeline stage (enrichers, filters, sequence) runs
after the capture, how many routes the level has. Instead of testing each of these per call,
:func:`build` specialises :data:`TEMPLATE` at construction: every line tagged ``# [flags]``
is kept only when all its flags hold (``!flag``: when it does not), so "no stages" is the
shortest code, not a list of flags tested per call.

Three functions come from the template: the method itself (the trio thread's path, ending in
the put); with the flag ``thread``, the path of a call from another thread (ending in the
hand-off's ``submit``), which the method calls with its arguments as it received them (the
positional values' tuple, ``exc_info`` and the keywords' dict: not packed again); and the
method again taking its arguments so (``packed``, an attribute of the method: what a
module-level proxy calls, having received them packed). What differs from one logger to the
next (its name, bound properties, their merge with the configuration's and its size) is read
from the logger's slots. All three take the same fast case and build everything else with the
one event builder (:meth:`logactors._capture.Builder.prepare`).

The fast case: a ``str`` template the capture knows, or one without braces
(:meth:`~logactors._capture.Capture.as_plain`), or a rendered message, ``Text``
(:meth:`~logactors._capture.Capture.as_text`; a printf-style call is rendered at the call and
taken as that text), any of them needing no cut and no masking;
no exception, only plain scalar property values, values the capture keeps as they are
(:data:`logactors._sizing.KEPT`: a datetime, a UUID, a Decimal, an Enum member), objects it
writes as their ``str()`` (:data:`logactors._capture.STRINGIFIED`, where no hole
destructures) or small plain ``dict``/``list`` values
(:meth:`~logactors._capture.Capture.plain`) under names the capture
knows to need nothing (or to be secret: their values are written as the mask), and no active
span (an ambient context is merged as the builder merges it, unless a name is in two
of its layers); the per-call enrichers are added as the builder's stage adds them (the
built-in ``thread`` and ``task`` from a cache of their captured values, a user enricher's
mapping captured at each call). For such a call ``prepare``
would only copy the dicts and add the same size;
tests/test_capture.py and tests/test_levelmethod.py prove both paths queue identical events
(properties in the same order, and the same sizes).

The put into a single inbox and the redaction scan hint are inlined from their one definition
(:meth:`logactors._core.inbox.Inbox.put_nowait`, ``Redactor._scan_hint``) by
:mod:`logactors._inline`; where a body cannot be inlined, the method calls it.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Mapping
from types import CodeType
from typing import TYPE_CHECKING, Any, Final

import trio

from ._capture import CONTEXT, STRINGIFIED, Text
from ._capture import _printf as printf
from ._core.inbox import Inbox
from ._events import LogEvent
from ._inline import NotInlinable, inline_body, inline_expression
from ._levels import Level
from ._redact import Redactor
from ._sizing import _OBJECT_BYTES, _SCALAR_BYTES, _SCALARS, _STR_OVERHEAD, KEPT
from ._trace import context_getter
from .templates import parse

if TYPE_CHECKING:
    from ._core.runtime import Runtime

__all__ = ["RUN_CONTEXT", "TEMPLATE", "Method", "build", "run_context", "source_for"]

#: A level method as its class holds it: a function of the logger, then the level method's
#: parameters (``log.info`` binds the logger).
Method = Callable[..., None]


class _PublicRunContext:
    """The current task through trio's public function: ``task`` as :data:`RUN_CONTEXT` has
    it (``AttributeError`` outside any task)."""

    @property
    def task(self) -> trio.lowlevel.Task:
        try:
            return trio.lowlevel.current_task()
        except RuntimeError:
            raise AttributeError("task") from None


def _load_run_context() -> Any:
    """trio's run context, or the public function's stand-in where this trio has none."""
    try:
        from trio._core._run import GLOBAL_RUN_CONTEXT
    except ImportError:
        return _PublicRunContext()
    return GLOBAL_RUN_CONTEXT


#: Where a level method on the trio thread reads the calling task: trio's run context, the
#: thread-local whose ``task`` attribute ``trio.lowlevel.current_task`` returns (absent outside
#: a task), read without that function's call, which costs about a twentieth of a logging
#: call. It is trio's private attribute: where this trio has none, an object giving the same
#: through the public function, and a runtime whose first level method is built in a task
#: takes that object too when the two disagree (:func:`run_context`).
RUN_CONTEXT: Final[Any] = _load_run_context()


def run_context() -> Any:
    """:data:`RUN_CONTEXT`, checked against ``trio.lowlevel.current_task`` when called in a
    task: where they disagree (a trio whose run context changed), the public function's."""
    try:
        current = trio.lowlevel.current_task()
    except RuntimeError:
        return RUN_CONTEXT
    if getattr(RUN_CONTEXT, "task", None) is current:
        return RUN_CONTEXT
    return _PublicRunContext()


#: The level method. Flags: ``fast`` (the fast case applies to this logger), ``ethread`` and
#: ``etask`` (the built-in per-call enrichers), ``euser`` (a user enricher: every enricher
#: through ``enrichment``; ``enriched``: any of the three), ``otel`` (trace correlation may add
#: ids), ``hint``/``every`` (redaction scans strings that match the hint / every string),
#: ``base`` (bound or configuration properties), ``simple`` (no stage on the trio thread; with
#: one, the fast case and the builder both end in ``admit``, or in ``number`` with
#: ``numbers``: the sequence number is the only one), ``handoff`` (other threads may have
#: queued events), ``thread`` (the other-thread path), and the route kinds ``one`` (one inbox:
#: the put inlined), ``fan`` (several inboxes: the put inlined in a loop over them),
#: ``single`` (one other target), ``many`` (anything else).
TEMPLATE: Final = """\
def emit(self, template, /, *args, exc_info=None, **props):
    try:
        if get_ident() != rt.gate_thread:  # [!thread]
            if rt.closed:  # [!thread]
                rt.rejected += 1  # [!thread]
            else:  # [!thread]
                from_thread(self, template, args, exc_info, props)  # [!thread]
            return  # [!thread]
        if pending:  # [!thread handoff]
            pump(force=True)  # [!thread handoff]
        try:  # [!thread]
            task = run_context.task.name  # (trio.lowlevel.current_task().name)  [!thread]
        except AttributeError:  # (outside any task)  [!thread]
            task = ""  # [!thread]
        task = current_thread().name  # [thread]
        fields = None
        known = None  # [fast]
        if exc_info is None:  # [fast]
            if template.__class__ is str:  # [fast]
                known = known_template(template)  # [fast]
                if known is None:  # [fast]
                    if not args:  # (a template without braces: Capture.as_plain)  [fast]
                        known = plain_text(template) or as_plain(template)  # [fast]
                    else:  # [fast]
                        # printf style, rendered now as the builder renders it, and taken
                        # from here as that text (a Text, which the builder also takes)
                        printed = printf(template, args)  # [fast]
                        if printed is not None:  # [fast]
                            template = Text(printed)  # [fast]
                            args = ()  # [fast]
                            known = as_text(template)  # [fast]
            elif template.__class__ is Text and not args:  # [fast]
                known = as_text(template)  # (a rendered message: see Capture.as_text)  [fast]
        if known is not None:  # [fast]
            values = props  # [fast]
            if args:  # [fast]
                # positional arguments bound to the holes, as the builder binds them (a known
                # template without holes takes the builder: printf style); the common case,
                # named holes, no keywords and no surplus, is MessageTemplate.bind's zip
                names = known[2]  # [fast]
                if names is None:  # [fast]
                    names = hole_names(template)  # [fast]
                if not props and 0 < len(args) <= len(names):  # [fast]
                    values = dict(zip(names, args))  # [fast]
                else:  # [fast]
                    holes = parse(template)  # [fast]
                    if holes.property_names:  # [fast]
                        values = {**holes.bind(args, props), **props}  # [fast]
                    else:  # [fast]
                        values = None  # [fast]
            # an active span: the builder adds its ids
            if values is not None:  # [fast !otel]
            if values is not None and not otel():  # [fast otel]
                text = known[0]  # [fast]
                size = known[1] + self._fixed_size  # [fast]
                objects = None  # [fast]
                for key, value in values.items():  # [fast]
                    if key not in safe:  # [fast]
                        if key in secret:  # (its value is written as the mask)  [fast]
                            values[key] = mask  # [fast]
                            size += mask_bytes  # [fast]
                            continue  # [fast]
                        break  # [fast]
                    cls = type(value)  # [fast]
                    if cls is str:  # [fast]
                        break  # [fast every]
                        if HINT:  # [fast hint]
                            break  # [fast hint]
                        size += str_bytes + len(value)  # [fast !every]
                    elif cls in scalars:  # [fast]
                        size += scalar_bytes  # [fast]
                    elif cls in kept:  # (a datetime, a UUID, an Enum member …: kept as is)  [fast]
                        size += object_bytes  # [fast]
                    elif cls is dict or cls is list:  # [fast]
                        copied = plain(value, 0)  # [fast]
                        if copied is None:  # [fast]
                            break  # [fast]
                        values[key] = copied[0]  # (a value replaced, not a key added)  [fast]
                        size += copied[1]  # [fast]
                    elif cls in stringified and "{@" not in template:  # [fast]
                        # an object written as its str(): taken below, once every check has
                        # passed (where no hole destructures: the builder tries its fields)
                        if objects is None:  # [fast]
                            objects = [key]  # [fast]
                        else:  # [fast]
                            objects.append(key)  # [fast]
                    else:  # [fast]
                        break  # [fast]
                else:  # [fast]
                    ctx = get_ctx()  # [fast]
                    if not self._base_names.isdisjoint(values):  # [fast base]
                        # a call value replaces a bound or configured one: the builder sizes it
                        size = limit + 1  # [fast base]
                    elif ctx:  # [fast base]
                    if ctx:  # [fast !base]
                        # the ambient context, merged as the builder merges it (config <
                        # context < bound < call); a name in two layers takes the builder
                        ambient_values, ambient_size = ambient(ctx)  # [fast]
                        names = ambient_values.keys()  # [fast]
                        if names.isdisjoint(values) and names.isdisjoint(self._base):  # [fast]
                            values = {**static, **ambient_values, **self._bound, **values}  # [fast]
                            size += ambient_size  # [fast]
                        else:  # [fast]
                            size = limit + 1  # [fast]
                    else:  # [fast base]
                        values = {**self._base, **values}  # [fast base]
                    # the built-in per-call enrichers, as the builder's stage adds them (a
                    # name the call, context or configuration has keeps its value), in a new
                    # dict: ``values`` may be the call's ``props``, which the builder takes
                    # as they were when the fast case gives up
                    if size <= limit:  # [fast enriched]
                        values = {**values}  # (one copy for both built-ins)  [fast enriched !euser]
                        added = enriched("thread", current_thread().name)  # [fast ethread]
                        if added[0] not in values:  # [fast ethread]
                            values[added[0]] = added[1]  # [fast ethread]
                            size += added[2]  # [fast ethread]
                        added = enriched("task", task)  # [fast etask]
                        if added[0] not in values:  # [fast etask]
                            values[added[0]] = added[1]  # [fast etask]
                            size += added[2]  # [fast etask]
                        # (with a user enricher: every enricher, captured at each call)
                        extra = enrichment(task)  # [fast euser]
                        if extra:  # [fast euser]
                            values = {**values}  # [fast euser]
                            for key, value in extra.items():  # [fast euser]
                                if key not in values:  # [fast euser]
                                    values[key] = value  # [fast euser]
                                    size += value_bytes(value)  # [fast euser]
                    if objects is not None and size <= limit:  # [fast]
                        # each object's str(), taken now (once: a call the builder takes
                        # after this point is one over the size limit), cut and masked, in a
                        # new dict: ``values`` may be the call's ``props``
                        values = {**values}  # [fast]
                        for key in objects:  # [fast]
                            value = stringify(values[key])  # [fast]
                            values[key] = value  # (a value replaced, not a key added)  [fast]
                            size += str_bytes + len(value)  # [fast]
                    if size <= limit:  # [fast]
                        fields = (  # [fast !thread]
                            now(), level, text, values, None, self._name, task  # [fast !thread]
                        )  # [fast !thread]
                        submit(  # [fast thread]
                            (now(), level, text, values, None, self._name, task,  # [fast thread]
                             size)  # [fast thread]
                        )  # [fast thread]
                        return  # [fast thread]
        if fields is None:
            prepared = prepare(
                now(), level, template, args, exc_info, props, static, self._bound, self._name,
                task,
            )
            submit(prepared)  # [thread]
            return  # [thread]
            size = prepared[7]  # [!thread]
            fields = prepared[:7]  # [!thread]
        admitted = admit((*fields, size))  # (filters, sequence)  [!thread !simple !numbers]
        if admitted is None:  # [!thread !simple !numbers]
            return  # [!thread !simple !numbers]
        fields, size = admitted  # [!thread !simple !numbers]
        size = number(fields[3], size)  # (the sequence, the only stage)  [!thread numbers]
        rt.events += 1  # [!thread]
        PUT  # [one !thread]
        for inbox in inboxes:  # [fan !thread]
            PUT  # [fan !thread]
        if type(fields) is not LogEvent:  # [single !thread]
            fields = new(LogEvent, fields)  # [single !thread]
        single(fields, level, size)  # [single !thread]
        if type(fields) is not LogEvent:  # [many !thread]
            fields = new(LogEvent, fields)  # [many !thread]
        for target in routes:  # [many !thread]
            target.put_nowait(fields, level, size)  # [many !thread]
    except Exception as exc:
        rt.internal_error(exc)
"""

_FLAGS: Final = re.compile(r"#[^\[\n]*\[([!\w ]+)\]\s*$")


def source_for(flags: Mapping[str, bool], put: str = "", hint: str = "") -> str:
    """The template specialised for ``flags``, with ``PUT`` and ``HINT`` replaced."""
    return _specialised(TEMPLATE, tuple(sorted(flags.items())), put, hint)


@functools.lru_cache(maxsize=128)
def _specialised(
    template: str, flag_items: tuple[tuple[str, bool], ...], put: str, hint: str
) -> str:
    """:func:`source_for`, once per process for each template and flags (every runtime start
    builds its level methods)."""
    flags = dict(flag_items)
    lines: list[str] = []
    for line in template.splitlines():
        found = _FLAGS.search(line)
        if found is not None:
            wanted = found.group(1).split()
            if not all(flags[w[1:]] is False if w[0] == "!" else flags[w] for w in wanted):
                continue
            line = line[: found.start()].rstrip()
            if not line.strip():
                continue
        stripped = line.strip()
        if stripped == "PUT":
            indent = line[: len(line) - len(line.lstrip())]
            lines.extend(indent + body for body in put.splitlines())
            continue
        lines.append(line.replace("HINT", hint) if "HINT" in line else line)
    return "\n".join(lines) + "\n"


_SOURCE: Final = """\
{thread}

{trio}

{packed}
"""


@functools.lru_cache(maxsize=64)
def _code(source: str) -> CodeType:
    return compile(source, "<logactors level method>", "exec")


def build(rt: Runtime, level: Level, has_base: bool, plain_base: bool) -> Method:
    """The level method of ``rt``'s loggers of one kind at ``level``: loggers with or without
    properties to merge (``has_base``: bound or configuration properties), all of them plain
    scalars or not (``plain_base``). A function of the logger (a method of its class): it reads
    the logger's name, bound properties and their merge (:meth:`Logger._settle
    <logactors._logger.Logger._settle>`) from the logger's slots."""
    builder = rt.builder
    capture = builder.capture
    routes = rt.routes[level]
    handoff = rt.handoff
    otel = context_getter(rt.config.trace_context)
    redactor = capture.redactor
    flags = {
        # a plain base, which the fast case merges as it is (the builder would do the same);
        # the per-call enrichers it adds as the builder's stage does (the built-in ones from
        # a cache, ``euser``: all of them captured at each call); filters and sequence
        # numbers run after it
        "fast": plain_base,
        "ethread": "thread" in (builder.builtin_enrichers or ()),
        "etask": "task" in (builder.builtin_enrichers or ()),
        "euser": builder.builtin_enrichers is None,
        "enriched": builder.builtin_enrichers is None or bool(builder.builtin_enrichers),
        "otel": otel is not None,
        "every": capture.scan == 2,
        "hint": capture.scan == 1,
        "base": has_base,
        "simple": builder.simple,
        "numbers": builder.numbers_only,
        "handoff": handoff is not None,
        "one": len(routes) == 1 and type(routes[0]) is Inbox,
        "fan": len(routes) > 1 and all(type(target) is Inbox for target in routes),
    }
    flags["single"] = len(routes) == 1 and not flags["one"]
    flags["many"] = not (flags["one"] or flags["fan"] or flags["single"])
    namespace: dict[str, Any] = {
        "rt": rt,
        "level": level,
        "static": rt.static_properties,
        "prepare": builder.prepare,
        "enriched": builder.enriched,
        "enrichment": builder.enrichment,
        "value_bytes": builder.value_bytes,
        "admit": builder.admit,
        "number": builder.number,
        "known_template": capture.templates.get,
        "hole_names": capture.hole_names,
        "as_text": capture.as_text,
        "as_plain": capture.as_plain,
        "plain_text": capture.plain_texts.get,
        "printf": printf,
        "ambient": builder.ambient,
        "Text": Text,
        "safe": capture.safe_names,
        "secret": capture.secret_names,
        "mask": capture.mask,
        "mask_bytes": _STR_OVERHEAD + len(capture.mask),
        "plain": capture.plain,
        "stringified": STRINGIFIED,
        "stringify": capture.stringify,
        "parse": parse,
        "limit": rt.max_event_bytes,
        "str_bytes": _STR_OVERHEAD,
        "scalar_bytes": _SCALAR_BYTES,
        "scalars": _SCALARS,
        "kept": KEPT,
        "object_bytes": _OBJECT_BYTES,
        "get_ctx": CONTEXT.get,
        "otel": otel,
        "get_ident": threading.get_ident,
        "run_context": run_context(),
        "current_thread": threading.current_thread,
        "now": time.time_ns,
        "pending": handoff.pending_events if handoff is not None else (),
        "pump": handoff.pump if handoff is not None else None,
        "submit": handoff.submit if handoff is not None else None,
        "routes": routes,
        "single": routes[0].put_nowait if routes else None,
        "new": tuple.__new__,
        "LogEvent": LogEvent,
    }
    hint = ""
    if flags["hint"] and redactor is not None:
        try:
            inlined = inline_expression(Redactor._scan_hint, {"text": "value"}, prefix="_hint_")
            namespace.update(inlined.namespace)
            hint = inlined.source
        except NotInlinable:
            namespace["needs_scan"] = redactor.needs_scan
            hint = "needs_scan(value)"
    put = ""
    if flags["one"] or flags["fan"]:
        namespace["inbox"] = routes[0]  # (one inbox; with several, the loop's variable)
        namespace["inboxes"] = routes
        try:
            inlined = inline_body(
                Inbox.put_nowait,
                {"self": "inbox", "event": "fields", "level": "level", "size": "size"},
                prefix="_put_",
            )
            namespace.update(inlined.namespace)
            put = inlined.source
        except NotInlinable:
            put = "inbox.put_nowait(fields, level, size)"
    if handoff is not None:
        # the other-thread path, ending in the hand-off: the level method's parameters as the
        # method received them (its call forwards them as they are, without packing them again)
        thread = source_for({**flags, "thread": True}, put, hint)
        thread = _retitled(thread, _FROM_THREAD)
    else:
        thread = "from_thread = reject"
        namespace["reject"] = _closed_thread_call(rt)
    trio_path = source_for({**flags, "thread": False}, put, hint)
    source = _SOURCE.format(thread=thread, trio=trio_path, packed=_retitled(trio_path, _PACKED))
    exec(_code(source), namespace)
    method: Any = namespace["emit"]
    # the same method taking its arguments packed, for a caller that holds them so (a
    # module-level proxy): read as ``packed`` on the method (:mod:`logactors._proxy`)
    method.packed = namespace["emit_packed"]
    compiled: Method = method
    return compiled


#: the first line of :data:`TEMPLATE` (the level method), of the other-thread path, and of
#: the level method taking its arguments packed
_EMIT: Final = "def emit(self, template, /, *args, exc_info=None, **props):"
_FROM_THREAD: Final = "def from_thread(self, template, args, exc_info, props):"
_PACKED: Final = "def emit_packed(self, template, args, exc_info, props):"


def _retitled(source: str, header: str) -> str:
    """``source`` (the specialised template) with its first line replaced by ``header``."""
    if not source.startswith(_EMIT + "\n"):
        raise RuntimeError("the level method template no longer starts with " + repr(_EMIT))
    return header + source[len(_EMIT) :]


def _closed_thread_call(rt: Runtime) -> Callable[..., None]:
    def reject(*args: object, **kwargs: object) -> None:
        rt.rejected += 1

    return reject
