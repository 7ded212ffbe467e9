"""Sphinx extension: the configuration reference, generated from the attrs classes.

``config-class`` renders one attrs class as a table of its fields (name, type, default,
description). Descriptions come from the ``Attributes:`` section of the class docstring (Google
style, as napoleon reads it), looked up along the MRO so inherited fields keep their base class's
description. Entries may name several fields at once (``queue / batch / retry: ...``).

The reference cannot rot silently; each of these is a Sphinx warning (an error under ``-W``),
checked on every build, incremental ones included (they do not re-read unchanged pages):

* a field with no description in any ``Attributes:`` section along the MRO;
* an ``Attributes:`` entry that names no field (a renamed or removed field);
* a configuration class exported by :mod:`logactors` that no ``config-class`` directive renders;
* a name in ``logactors.__all__`` that the API reference (autodoc) does not document.

Usage in MyST Markdown::

    ```{config-class} logactors.QueueConfig
    ```

    ```{config-class} logactors.FileSink
    :own:
    ```

``:own:`` shows only the fields a sink adds to (or re-defaults from) :class:`SinkConfig`.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import re
from collections.abc import Iterator
from typing import Any, ClassVar

import attrs
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from logactors.config.convert import CONFIG_MODULES

LOGGER = logging.getLogger(__name__)
WARNING_TYPE = "logactors"

# ---------------------------------------------------------------------------------------------
# Docstrings.

_SECTION = re.compile(r"^(\s*)([A-Z][A-Za-z ]*):\s*$")
_ENTRY = re.compile(r"^(?P<names>[A-Za-z_][\w]*(?:\s*/\s*[A-Za-z_][\w]*)*)\s*:\s*(?P<text>.*)$")
_ROLE = re.compile(r":(?:py:)?(\w+):`([^`]+)`")


def attribute_docs(doc: str | None) -> dict[str, str]:
    """The ``Attributes:`` section of a Google-style docstring as ``{field: description}``.

    An entry is ``name: text`` at the section's first indentation level, continued by more
    deeply indented lines; ``a / b: text`` describes several fields at once.
    """
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    out: dict[str, str] = {}
    in_section = False
    entry_indent: int | None = None
    current: list[str] | None = None
    names: list[str] = []

    def close() -> None:
        if current is not None:
            text = " ".join(part.strip() for part in current if part.strip())
            for name in names:
                out[name] = text

    for line in lines:
        header = _SECTION.match(line)
        if header and (not in_section or len(header.group(1)) == 0):
            close()
            current, names, entry_indent = None, [], None
            in_section = header.group(2) == "Attributes"
            continue
        if not in_section:
            continue
        if not line.strip():
            if current is not None:
                current.append("")
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:  # the section ended
            close()
            current, names, entry_indent, in_section = None, [], None, False
            continue
        if entry_indent is None:
            entry_indent = indent
        match = _ENTRY.match(line.strip()) if indent == entry_indent else None
        if match:
            close()
            names = [n.strip() for n in match.group("names").split("/")]
            current = [match.group("text")]
        elif current is not None:
            current.append(line)
    close()
    return out


def field_descriptions(cls: type) -> dict[str, tuple[str, type]]:
    """Descriptions of the fields of ``cls`` along its MRO: ``{field: (text, defining class)}``."""
    found: dict[str, tuple[str, type]] = {}
    for klass in cls.__mro__:
        for name, text in attribute_docs(klass.__dict__.get("__doc__")).items():
            found.setdefault(name, (text, klass))
    return found


def summary(cls: type) -> str:
    """The docstring of ``cls`` without its Google-style sections (``Attributes:`` …); text
    that follows a section at the left margin is kept."""
    doc = inspect.cleandoc(cls.__dict__.get("__doc__") or "")
    kept: list[str] = []
    in_section = False
    for line in doc.splitlines():
        if _SECTION.match(line) and not line.startswith(" "):
            in_section = True
            continue
        if in_section and line.strip() and not line.startswith(" "):
            in_section = False
        if not in_section:
            kept.append(line)
    return " ".join(part.strip() for part in kept if part.strip())


def rst_to_myst(text: str) -> str:
    """Inline RST (``:class:`X```) as MyST (``{class}`X```); double backticks are code in both."""
    return _ROLE.sub(lambda m: f"{{py:{m.group(1)}}}`{m.group(2)}`", text)


# ---------------------------------------------------------------------------------------------
# Types and defaults.

#: What a lenient converter of ``logactors.config`` accepts besides the annotated type.
CONVERTER_HINTS = {
    "_to_level": "level",
    "_to_sink_level": "level or ``off``",
    "_to_optional_level": "level",
    "_to_duration": "duration",
    "_to_size": "size",
    "_to_optional_size": "size",
    "_to_str_tuple": "list, or one string",
    "_to_path": "path-like",
    "_to_address": '``"host:port"`` or ``[host, port]``',
    "_to_filters": "list of filter tables",
}

_SIZE_UNITS = ((1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB"))


def type_text(field: attrs.Attribute[Any]) -> str:
    """The annotation as written in the source (a string under postponed evaluation)."""
    annotation = field.type
    if annotation is None:
        return "Any"
    if isinstance(annotation, str):
        return annotation
    return getattr(annotation, "__name__", None) or repr(annotation)


def converter_hint(field: attrs.Attribute[Any]) -> str | None:
    """What the field's converter accepts (level names, ``"200ms"``, ``"64MiB"``), if known."""
    converter = field.converter
    name = getattr(converter, "__name__", None)
    return CONVERTER_HINTS.get(name) if name else None


def short_repr(value: Any) -> str:
    """A readable default: levels by name, strings in double quotes, attrs objects with only
    their non-default fields, sizes with a binary unit."""
    from logactors import OFF, Level

    if isinstance(value, Level):
        return json.dumps(value.name.lower())
    if isinstance(value, enum.Enum):
        return repr(value.value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        if value == OFF:
            return '"off"'
        for unit, label in _SIZE_UNITS:
            if value >= unit and value % unit == 0:
                return f"{value} ({value // unit} {label})"
        return repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(short_repr(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(short_repr(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{short_repr(k)}: {short_repr(v)}" for k, v in value.items()) + "}"
    if attrs.has(type(value)):
        changed = []
        for field in attrs.fields(type(value)):
            current = getattr(value, field.name)
            if field.default is attrs.NOTHING or _default_value(field) != current:
                changed.append(f"{field.name}={short_repr(current)}")
        return f"{type(value).__name__}({', '.join(changed)})"
    return repr(value)


def _default_value(field: attrs.Attribute[Any]) -> Any:
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return default.factory()  # type: ignore[attr-defined]
    if field.converter is not None and default is not None and callable(field.converter):
        try:
            return field.converter(default)
        except Exception:
            return default
    return default


def default_text(field: attrs.Attribute[Any]) -> str | None:
    """The default as shown in the table; ``None`` when the field is required."""
    default = field.default
    if default is attrs.NOTHING:
        return None
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        factory = default.factory  # type: ignore[attr-defined]
        if factory in (dict, list, tuple):
            return {dict: "{}", list: "[]", tuple: "()"}[factory]
        if isinstance(factory, type) and attrs.has(factory):
            return f"{factory.__name__}()"
        return short_repr(factory())
    return short_repr(_default_value(field))


# ---------------------------------------------------------------------------------------------
# The directive.


def import_object(path: str) -> Any:
    """``logactors.QueueConfig`` → the class."""
    module_name, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _own_fields(cls: type) -> Iterator[attrs.Attribute[Any]]:
    """Fields that ``cls`` adds to, or re-defaults from, its attrs base classes."""
    inherited: dict[str, attrs.Attribute[Any]] = {}
    for base in cls.__mro__[1:]:
        if attrs.has(base):
            for field in attrs.fields(base):
                inherited.setdefault(field.name, field)
    for field in attrs.fields(cls):
        base_field = inherited.get(field.name)
        if base_field is None or default_text(base_field) != default_text(field):
            yield field


class ConfigClassDirective(SphinxDirective):
    """``config-class``: one attrs class as a field table (see the module docstring)."""

    required_arguments = 1
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {
        "own": directives.flag,
        "no-summary": directives.flag,
    }

    def run(self) -> list[nodes.Node]:
        path = self.arguments[0]
        try:
            cls = import_object(path)
        except (ImportError, AttributeError) as exc:
            LOGGER.warning(
                "config-class: cannot import %s: %s",
                path,
                exc,
                location=self.get_location(),
                type=WARNING_TYPE,
                subtype="import",
            )
            return []
        if not attrs.has(cls):
            LOGGER.warning(
                "config-class: %s is not an attrs class",
                path,
                location=self.get_location(),
                type=WARNING_TYPE,
                subtype="import",
            )
            return []
        for klass in cls.__mro__:  # re-read this page when the classes' source changes
            source = inspect.getsourcefile(klass) if klass.__module__ != "builtins" else None
            if source:
                self.env.note_dependency(source)
        rendered: dict[str, str] = self.env.__dict__.setdefault("logactors_config_classes", {})
        rendered[f"{cls.__module__}.{cls.__qualname__}"] = self.env.docname

        descriptions = field_descriptions(cls)
        fields = list(_own_fields(cls)) if "own" in self.options else list(attrs.fields(cls))
        rows: list[tuple[str, str, str, str | None]] = []
        for field in fields:
            found = descriptions.get(field.name)
            text = found[0] if found is not None else ""  # missing ones: see _check
            type_cell = f"``{type_text(field)}``"
            hint = converter_hint(field)
            if hint:
                type_cell += f" ({hint})"
            rows.append((field.name, type_cell, text, default_text(field)))

        result: list[nodes.Node] = []
        intro = [] if "no-summary" in self.options else [summary(cls)]
        kind = getattr(cls, "kind", "")
        if kind and isinstance(kind, str):
            intro.append(f'In TOML/JSON: ``type = "{kind}"``.')
        formats = getattr(cls, "formats", None)
        if kind and formats:
            intro.append("Formats: " + ", ".join(f"``{f}``" for f in sorted(formats)) + ".")
        if "own" in self.options:
            intro.append("Also every field of {py:class}`~logactors.SinkConfig`.")
        text = " ".join(t for t in intro if t)
        if text:
            result.extend(self._parse(text))
        result.append(self._table(rows))
        return result

    def _parse(self, text: str) -> list[nodes.Node]:
        """Parse inline markup in the document's language (MyST here, RST elsewhere)."""
        is_myst = "myst" in type(self.state).__module__
        source = rst_to_myst(text) if is_myst else text.replace("{py:class}", ":py:class:")
        container = nodes.container()
        self.state.nested_parse(self._lines(source), self.content_offset, container)
        return list(container.children)

    def _lines(self, text: str) -> Any:
        from docutils.statemachine import StringList

        return StringList([text], source=self.get_source_info()[0])

    def _table(self, rows: list[tuple[str, str, str, str | None]]) -> nodes.table:
        table = nodes.table(classes=["logactors-config"])
        group = nodes.tgroup(cols=4)
        table += group
        for width in (18, 22, 16, 44):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head += self._row(["Field", "Type", "Default", "Description"], header=True)
        body = nodes.tbody()
        group += body
        for name, type_cell, description, default in rows:
            row = nodes.row()
            entry = nodes.entry()
            entry += nodes.paragraph("", "", nodes.literal(name, name))
            row += entry
            for cell in (type_cell, None, description):
                entry = nodes.entry()
                if cell is None:
                    para = nodes.paragraph()
                    if default is None:
                        para += nodes.emphasis("required", "required")
                    else:
                        para += nodes.literal(default, default)
                    entry += para
                elif cell:
                    entry.extend(self._parse(cell))
                row += entry
            body += row
        return table

    @staticmethod
    def _row(cells: list[str], *, header: bool = False) -> nodes.row:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph(cell, cell)
            row += entry
        return row


class ApiRestDirective(SphinxDirective):
    """``logactors-api-rest``: autodoc for every name of ``logactors.__all__`` not documented
    yet (placed last on the API page, so a new public name is never left out)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        import logactors

        objects = self.env.get_domain("py").objects  # type: ignore[attr-defined]
        missing = [n for n in logactors.__all__ if f"logactors.{n}" not in objects]
        if not missing:
            return []
        is_myst = "myst" in type(self.state).__module__
        blocks: list[str] = []
        for name in missing:
            obj = getattr(logactors, name)
            if isinstance(obj, type) and issubclass(obj, BaseException):
                kind, options = "autoexception", []
            elif isinstance(obj, type):
                kind, options = "autoclass", [":members:"]
            elif callable(obj):
                kind, options = "autofunction", []
            else:
                kind, options = "autodata", []
            rst = "\n".join([f".. {kind}:: logactors.{name}", *(f"   {o}" for o in options)])
            # autodoc generates reStructuredText: in MyST it must run inside eval-rst
            blocks.append(f"```{{eval-rst}}\n{rst}\n```" if is_myst else rst)
        from docutils.statemachine import StringList

        text = "\n\n".join(blocks)
        container = nodes.container()
        self.state.nested_parse(
            StringList(text.splitlines(), source=self.get_source_info()[0]),
            self.content_offset,
            container,
        )
        rubric = nodes.rubric("", "Other public names")
        return [rubric, *container.children]


# ---------------------------------------------------------------------------------------------
# Completeness checks.


def config_classes() -> dict[str, type]:
    """The configuration classes exported by ``logactors`` (attrs classes from its config)."""
    import logactors

    found: dict[str, type] = {}
    for name in logactors.__all__:
        obj = getattr(logactors, name)
        if isinstance(obj, type) and attrs.has(obj) and obj.__module__ in CONFIG_MODULES:
            found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    rendered = env.__dict__.get("logactors_config_classes", {})
    for key in [k for k, doc in rendered.items() if doc == docname]:
        del rendered[key]


def _merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment) -> None:
    env.__dict__.setdefault("logactors_config_classes", {}).update(
        other.__dict__.get("logactors_config_classes", {})
    )


def missing_descriptions(cls: type) -> Iterator[str]:
    """Problems of the ``Attributes:`` documentation of ``cls``: fields it defines (or
    re-defaults) without a description, and described names that are not fields."""
    descriptions = field_descriptions(cls)
    for field in _own_fields(cls):
        if field.name not in descriptions:
            yield (
                f"{cls.__qualname__}.{field.name} has no description: add it to the "
                f"Attributes: section of the {cls.__qualname__} docstring"
            )
    names = {f.name for f in attrs.fields(cls)}
    for name, (_text, owner) in descriptions.items():
        if owner is cls and name not in names:
            yield (
                f"{cls.__qualname__}: its Attributes: section describes {name!r}, which is "
                "not a field"
            )


def _check(app: Sphinx, exception: BaseException | None) -> None:
    """At the end of every build, incremental ones included (Sphinx skips its consistency
    check when no page changed)."""
    if exception is not None:
        return
    env = app.env
    rendered = env.__dict__.get("logactors_config_classes", {})
    for key, cls in config_classes().items():
        docname = rendered.get(key)
        if docname is None:
            LOGGER.warning(
                "configuration class %s is exported by logactors but no config-class "
                "directive renders it (add it to docs/configuration.md)",
                cls.__qualname__,
                type=WARNING_TYPE,
                subtype="config-missing",
            )
        for problem in missing_descriptions(cls):
            LOGGER.warning(problem, location=docname, type=WARNING_TYPE, subtype="config-doc")
    import logactors

    objects = env.get_domain("py").objects  # type: ignore[attr-defined]
    for name in logactors.__all__:
        if f"logactors.{name}" not in objects:
            LOGGER.warning(
                "logactors.%s is public (in __all__) but not in the API reference "
                "(add it to docs/api.md)",
                name,
                type=WARNING_TYPE,
                subtype="api-missing",
            )


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive and the consistency checks."""
    app.add_directive("config-class", ConfigClassDirective)
    app.add_directive("logactors-api-rest", ApiRestDirective)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("build-finished", _check)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
