"""The gateway: the only public entry (REST API, web app, health, metrics).

The app factory is `gateway.app.create_app`; `python -m gateway` serves it. This module stays
empty so that `python -m gateway` can monkey-patch eventlet before anything else is imported.
"""
