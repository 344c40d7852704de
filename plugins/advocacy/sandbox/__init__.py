"""Sandbox: a synthetic company (``company.py``) and look-alikes of the platform APIs.

``server.py`` serves them over HTTP with a simulated clock, for the demo, the
tests and benchmarks. Production code (connectors) never imports this package.
"""
