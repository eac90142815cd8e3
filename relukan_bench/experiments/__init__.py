"""Experiments: plain functions from a validated config to records. They know nothing of the
CLI, of files or of rendering."""
