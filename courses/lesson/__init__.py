"""The lesson activity plugin."""
