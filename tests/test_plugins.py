"""Third-party sinks: the ``logactors.sinks`` entry point and ``CustomSink`` factories."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

import logactors
from logactors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plugin_sink"


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the example plugin importable and discoverable as if pip-installed: its package
    on sys.path and a dist-info with the entry point from its pyproject.toml."""
    dist = tmp_path / "logactors_level_counts-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: logactors-level-counts\nVersion: 0.1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[logactors.sinks]\nlevel_counts = logactors_level_counts:LevelCountsSink\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(EXAMPLE))
    importlib.invalidate_caches()
    yield
    sys.modules.pop("logactors_level_counts", None)


def test_entry_point_is_discovered(installed_plugin: None) -> None:
    """The registered name appears among the known sink types."""
    from logactors.sinks import entry_point_sinks

    assert "level_counts" in entry_point_sinks()


async def test_plugin_usable_by_type_name_from_toml(installed_plugin: None, tmp_path: Path) -> None:
    """type = "level_counts" builds the plugin; extra keys become factory options."""
    out = tmp_path / "counts.json"
    config_file = tmp_path / "logactors.toml"
    config_file.write_text(
        f"""
        min_level = "debug"

        [[sinks]]
        type = "level_counts"
        name = "counts"
        path = "{out}"
        batch = {{ max_events = 2 }}
        """
    )
    config = logactors.load_config(config_file)
    (sink,) = config.sinks
    assert isinstance(sink, logactors.CustomSink)
    assert sink.name == "counts"
    assert dict(sink.options) == {"path": str(out)}
    async with logactors.open_logger(config_file) as log:
        log.debug("d")
        log.info("i")
        log.info("i")
        log.error("e")
        await log.flush()
        assert json.loads(out.read_text()) == {"debug": 1, "error": 1, "info": 2}
        metrics = log.metrics().sinks["counts"]
    assert metrics.written == 4
    assert metrics.batches >= 2


def test_unknown_type_lists_plugins(installed_plugin: None) -> None:
    """An unknown type's error names the built-in and the plugin types."""
    with pytest.raises(ConfigError) as info:
        logactors.load_config({"sinks": [{"type": "nope"}]})
    assert "level_counts" in str(info.value)
    assert "file" in str(info.value)


async def test_custom_sink_factory_path(installed_plugin: None, tmp_path: Path) -> None:
    """CustomSink(factory="module:Name", options=...) builds the same sink without the entry
    point."""
    out = tmp_path / "c.json"
    config = logactors.SupervisorConfig(
        sinks=[
            logactors.CustomSink(
                name="c",
                factory="logactors_level_counts:LevelCountsSink",
                options={"path": str(out)},
            )
        ]
    )
    async with logactors.open_logger(config) as log:
        log.warning("w")
    assert json.loads(out.read_text()) == {"warning": 1}


def test_bad_factory_is_a_config_error() -> None:
    """A factory that cannot be imported is reported when the logger is built."""
    config = logactors.SupervisorConfig(
        sinks=[logactors.CustomSink(name="c", factory="no_such_module:Nothing")]
    )
    with pytest.raises(ConfigError) as info:
        logactors._core.runtime.Runtime(config)
    assert "no_such_module" in str(info.value)
