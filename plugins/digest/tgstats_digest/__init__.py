"""tgstats weekly digest plugin."""
