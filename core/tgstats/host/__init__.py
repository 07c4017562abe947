"""The plugin host: discovery, loading, the manager (staged reload, rollback) and plugin records.

Plugins never import this package; they see only :mod:`tgstats.plugins`.
"""
