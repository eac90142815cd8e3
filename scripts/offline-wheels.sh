#!/usr/bin/env bash
# Wheels for a machine that has a GPU, Python and PyTorch but no package index (a lent or
# air-gapped GPU box): the packages relukan-bench needs beyond what such an image usually
# holds, at the versions this environment tests with, for that machine's Python.
#
#   scripts/offline-wheels.sh [DEST] [PYTHON_VERSION]       (defaults: .whl 3.12)
#
# Run it here, where pip reaches an index; carry DEST to the GPU machine, where
# scripts/gpu-reference.sh installs them beside its torch (no index, no dependencies pulled).
# pykan 0.0.5 and 0.1.2 come too: `relukan-bench pykan install` finds them there through
# PIP_FIND_LINKS. Exit status 2 and one line when a download fails.
set -euo pipefail
dest=${1:-.whl}
pyver=${2:-3.12}
here=${PYTHON:-.venv/bin/python}
# The versions tested here, read from this environment (pykan's baselines are fixed releases).
pins=$("$here" - <<'PY'
from importlib.metadata import version
names = ["pykan", "typer", "pydantic", "pydantic-core", "annotated-types", "typing-inspection",
         "typing-extensions", "annotated-doc"]
print(" ".join(f"{name}=={version(name)}" for name in names))
PY
) || { echo "error: $here cannot read the installed versions (run make setup first)" >&2; exit 2; }
mkdir -p "$dest"
platforms=()
for n in 17 27 28 31 34; do platforms+=(--platform "manylinux_2_${n}_x86_64"); done
for pin in $pins pykan==0.0.5 pykan==0.1.2; do
  "$here" -m pip download -q --no-deps --only-binary=:all: --python-version "$pyver" --implementation cp \
      "${platforms[@]}" --platform manylinux2014_x86_64 -d "$dest" "$pin" \
    || { echo "error: pip could not download $pin for Python $pyver into $dest" >&2; exit 2; }
done
ls "$dest"
