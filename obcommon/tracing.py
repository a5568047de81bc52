"""OpenTelemetry set-up: off unless the standard OTEL_* variables ask for an exporter."""
import logging
import os

log = logging.getLogger(__name__)


def setup_tracing(service: str) -> bool:
    """Install a tracer provider when OTEL_TRACES_EXPORTER or an OTLP endpoint is configured."""
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if exporter_name in ("", "none") and not endpoint:
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": f"office-booker-{service}"}))
    if exporter_name == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    else:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            log.warning("OTLP endpoint set but opentelemetry-exporter-otlp-proto-http is not installed")
            return False
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return True
