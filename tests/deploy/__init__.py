"""Deployment checks: Dockerfiles, the Helm chart, alert rules, dashboard, skaffold.

They need no cluster and no Docker engine: the chart is rendered and linted with the Helm SDK from
PyPI (helm-python-sdk), manifests are validated with kubernetes-validate, and the alert rules with
promtool (Debian's prometheus package, installed by ./ob test when run as root).
"""
