"""JSON-lines logging for every process (SPEC §8).

ERROR means something broke that should have worked; INFO means it worked but the user may have
been shown an error. Every error response's `reference` is passed as `extra={"reference": ...}`.
"""
import logging
import os
import sys

from prometheus_client import Counter
from pythonjsonlogger.json import JsonFormatter

LOG_MESSAGES = Counter("ob_log_messages_total", "Log records written, by level", ["service", "level"])


class _Formatter(JsonFormatter):
    def __init__(self, service: str):
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
        self.service = service

    def add_fields(self, log_record, record, message_dict):
        super().add_fields(log_record, record, message_dict)
        log_record["service"] = self.service
        try:
            from opentelemetry import trace

            ctx = trace.get_current_span().get_span_context()
            if ctx.is_valid:
                log_record["trace_id"] = format(ctx.trace_id, "032x")
        except Exception:  # noqa: BLE001 - logging must never fail
            pass


class _ExpectedErrors(logging.Filter):
    """nameko logs a declared (expected) error as a WARNING with a traceback; it is an answer
    the user was given (a rejected booking, a wrong code), so it is INFO without a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "nameko.containers" and str(record.msg).startswith("(expected)"):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


class _CountByLevel(logging.Filter):
    """Feeds `ob_log_messages_total{service, level}` (the ERROR-rate alert)."""

    def __init__(self, service: str):
        super().__init__()
        self.counter = LOG_MESSAGES
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        self.counter.labels(self.service, record.levelname).inc()
        return True


def setup_logging(service: str) -> None:
    # Our lines name no source file, thread or process: not looked up for every record (the
    # logging HOWTO's "Optimization"; a frame walk and eventlet's green current_thread per line)
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_Formatter(service))
    handler.addFilter(_ExpectedErrors())  # first: an expected error counts as INFO
    handler.addFilter(_CountByLevel(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    for noisy in ("amqp", "kombu", "urllib3", "werkzeug", "nameko.web", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
