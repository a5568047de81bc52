"""Every metric name the alert rules (charts/office-booker/files/alerts.yaml) and the Grafana
dashboard (charts/office-booker/files/dashboard.json) may use, as the series is named in a scrape.

tests/deploy/test_metrics.py fails when a rule or a dashboard panel uses a name missing here; a test
that scrapes the running stack can check that each name below is really exposed. Scraping hints:
- prometheus_client prints `# HELP`/`# TYPE` for a labelled metric before its first observation,
  but no sample: look for the family name in the TYPE lines. A histogram's family is the name
  without `_bucket` (`# TYPE ob_http_request_duration_seconds histogram`).
- RabbitMQ series come from its rabbitmq_prometheus plugin (port 15692); the per-queue series
  (`queue` label) need `prometheus.return_per_object_metrics = true` or the /metrics/per-object path.
"""

# Exposed by the gateway and the services (prometheus_client).
OURS = {
    # gateway (gateway/app.py)
    "ob_http_requests_total",                      # {method, route, status}
    "ob_http_request_duration_seconds_bucket",     # histogram {method, route}
    # every service (obcommon/service.py)
    "ob_service_calls_total",                      # {service, entrypoint, kind, outcome}
    "ob_service_call_duration_seconds_bucket",     # histogram {service, entrypoint, kind}
    "ob_outbox_published_total",                   # {service}
    "ob_outbox_publish_failures_total",            # {service}
    # every process: log records by level (obcommon/logs.py)
    "ob_log_messages_total",                       # {service, level}
    # notify (services/notify/dependencies.py)
    "ob_mail_sent_total",                          # {kind}
    "ob_mail_failures_total",                      # {kind}
    # booking (services/booking/service.py)
    "ob_booking_decisions_total",                  # {office, outcome}
    "ob_bookings_cancelled_total",                 # {office}
}

# Exposed by RabbitMQ's rabbitmq_prometheus plugin.
RABBITMQ = {
    "rabbitmq_queue_messages_ready",               # per object: {vhost, queue}
    "rabbitmq_queue_messages_unacked",             # per object: {vhost, queue}
    "rabbitmq_queue_consumers",                    # per object: {vhost, queue}
    "rabbitmq_global_messages_dead_lettered_rejected_total",
    "rabbitmq_global_messages_dead_lettered_expired_total",
    "rabbitmq_global_messages_dead_lettered_maxlen_total",
    "rabbitmq_global_messages_dead_lettered_delivery_limit_total",
}

# Made by Prometheus itself for every scrape target (not in any /metrics output).
PROMETHEUS = {
    "up",
}

ALL = OURS | RABBITMQ | PROMETHEUS
