"""The hot-reload engine: what to watch, the watcher backends, and the reloader.

A saved file travels:

1. ``targets`` -- what is watched (plugin source trees, plugins.yaml,
   install metadata), filtered by the rules in ``patterns``;
2. ``watcher`` -- the interface of a backend, ``poll`` or ``native``, which
   ``backends`` picks and builds; the backend reports the changed paths;
3. ``reloader`` -- debounces the reports, classifies them and asks the
   host's plugin manager (:mod:`tgstats.host.manager`) to reload, which swaps
   the plugin's handlers.
"""
