"""tgstats plugin package; the plugin class lives in :mod:`tgstats_reply_graph.plugin`."""
