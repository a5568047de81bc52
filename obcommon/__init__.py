"""Shared platform package for every Office Booker service and the gateway."""

__version__ = "0.2.0"
