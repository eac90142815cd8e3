"""Experiments: each a package here that declares itself (`EXPERIMENT`, see `protocol`): plain
functions from a validated config to records, plus what the runner, the CLI, the report and
`compare` need to know of it. They know nothing of the CLI, of files or of terminals."""
