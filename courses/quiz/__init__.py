"""The quiz activity plugin."""
