"""logactors: actor-based, supervised, non-blocking structured logging for trio.

::

    async with logactors.open_logger(config) as log:
        log.info("Processing request {id} for {user}", id=42, user="bob")
"""

from __future__ import annotations

from ._core.runtime import open_logger as open_logger
from ._core.runtime import start_logger as start_logger
from ._events import LogEvent as LogEvent
from ._facade import BoundLogger as BoundLogger
from ._hosted import ThreadedLogger as ThreadedLogger
from ._hosted import start_in_thread as start_in_thread
from ._levels import OFF as OFF
from ._levels import Level as Level
from ._logger import Logger as Logger
from ._proxy import LoggerProxy as LoggerProxy
from ._proxy import get_logger as get_logger
from ._version import __version__ as __version__
from .config import BatchConfig as BatchConfig
from .config import BreakerConfig as BreakerConfig
from .config import CaptureConfig as CaptureConfig
from .config import ConsoleSink as ConsoleSink
from .config import CustomSink as CustomSink
from .config import FileSink as FileSink
from .config import FilterConfig as FilterConfig
from .config import GelfSink as GelfSink
from .config import HttpSink as HttpSink
from .config import MemorySink as MemorySink
from .config import MetricsConfig as MetricsConfig
from .config import NullSink as NullSink
from .config import QueueConfig as QueueConfig
from .config import RedactConfig as RedactConfig
from .config import RestartPolicy as RestartPolicy
from .config import RetryConfig as RetryConfig
from .config import ShutdownConfig as ShutdownConfig
from .config import SinkConfig as SinkConfig
from .config import SpoolConfig as SpoolConfig
from .config import SupervisorConfig as SupervisorConfig
from .config import SyslogSink as SyslogSink
from .config import load_config as load_config
from .exceptions import ConfigError as ConfigError
from .exceptions import LogactorsError as LogactorsError
from .exceptions import LoggerClosedError as LoggerClosedError
from .exceptions import SinkError as SinkError
from .metrics import MetricsSnapshot as MetricsSnapshot
from .metrics import ShutdownReport as ShutdownReport
from .metrics import SinkMetrics as SinkMetrics
from .sinks.base import Sink as Sink

__all__ = [
    "OFF",
    "BatchConfig",
    "BoundLogger",
    "BreakerConfig",
    "CaptureConfig",
    "ConfigError",
    "ConsoleSink",
    "CustomSink",
    "FileSink",
    "FilterConfig",
    "GelfSink",
    "HttpSink",
    "Level",
    "LogEvent",
    "LogactorsError",
    "Logger",
    "LoggerClosedError",
    "LoggerProxy",
    "MemorySink",
    "MetricsConfig",
    "MetricsSnapshot",
    "NullSink",
    "QueueConfig",
    "RedactConfig",
    "RestartPolicy",
    "RetryConfig",
    "ShutdownConfig",
    "ShutdownReport",
    "Sink",
    "SinkConfig",
    "SinkError",
    "SinkMetrics",
    "SpoolConfig",
    "SupervisorConfig",
    "SyslogSink",
    "ThreadedLogger",
    "get_logger",
    "load_config",
    "open_logger",
    "start_in_thread",
    "start_logger",
]
