"""The hot-reload engine: what to watch, the watcher backends, and the reloader.

A saved file travels: ``targets`` (what is watched) -> a ``watcher`` backend
(``poll`` or ``native``) -> the ``reloader`` (debounce, classify) -> the host's
plugin manager, which swaps the plugin's handlers.
"""
