"""A plugin module whose import raises."""

raise ImportError("a dependency of this plugin is missing")
