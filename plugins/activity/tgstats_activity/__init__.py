"""tgstats plugin package; the plugin class lives in :mod:`tgstats_activity.plugin`."""
