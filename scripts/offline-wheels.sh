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
#
# DEST is a directory, made when missing. PYTHON_VERSION is 3.MINOR, MINOR a whole number from
# 10 to 99 in decimal digits (leading zeros too: 3.012 is 3.12). Any other argument (an option but
# -h and --help, a third argument, an empty DEST, a DEST that is a file or lies under one) is
# refused in one line, status 2, before anything runs or is made.
set -euo pipefail
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
. "$(dirname "$0")/args.sh"  # refuse, decimal
# `version_ok VALUE`: status 0 for 3.MINOR, MINOR from 10 to 99 (into $num).
version_ok() {
  [[ $1 == *.* ]] && decimal "${1%%.*}" && [ "$num" -eq 3 ] \
    && decimal "${1#*.}" && [ "$num" -ge 10 ] && [ "$num" -le 99 ]
}
# `dest_ok DEST`: status 0 when DEST is a writable directory or can be made as one: its nearest
# existing part (a link counts, even a broken one) is a directory this user may write.
dest_ok() {
  local part=$1
  [ -n "$part" ] || return 1
  while [ ! -e "$part" ] && [ ! -L "$part" ]; do
    case $part in */*) part=${part%/*}; part=${part:-/} ;; *) part=. ;; esac
  done
  [ -d "$part" ] && [ -w "$part" ] && [ -x "$part" ]
}
for arg; do case $arg in -h|--help) usage; exit 0 ;; esac; done
for arg; do
  case $arg in -*) refuse "unknown option: the only options are -h and --help (a DEST may start ./-)" "$arg" ;; esac
done
[ $# -le 2 ] || refuse "expected at most DEST and PYTHON_VERSION" "$3"
dest=${1-.whl}
dest_ok "$dest" || refuse "DEST: expected a directory, or a path where one can be made" "$dest"
pyver=${2-3.12}
version_ok "$pyver" || refuse "PYTHON_VERSION: expected 3.MINOR, MINOR a whole number from 10 to 99" "$pyver"
pyver=3.$num
here=${PYTHON:-.venv/bin/python}
# The versions tested here, read from this environment (pykan's baselines are fixed releases).
pins=$("$here" - <<'PY'
from importlib.metadata import version
names = ["pykan", "typer", "pydantic", "pydantic-core", "annotated-types", "typing-inspection",
         "typing-extensions", "annotated-doc"]
print(" ".join(f"{name}=={version(name)}" for name in names))
PY
) || { echo "error: $here cannot read the installed versions (run make setup first)" >&2; exit 2; }
mkdir -p "$dest" 2>/dev/null || refuse "DEST: cannot be made" "$dest"
platforms=()
for n in 17 27 28 31 34; do platforms+=(--platform "manylinux_2_${n}_x86_64"); done
for pin in $pins pykan==0.0.5 pykan==0.1.2; do
  "$here" -m pip download -q --no-deps --only-binary=:all: --python-version "$pyver" --implementation cp \
      "${platforms[@]}" --platform manylinux2014_x86_64 -d "$dest" "$pin" \
    || { printf 'error: pip could not download %s for Python %s into %q\n' "$pin" "$pyver" "$dest" >&2; exit 2; }
done
ls "$dest"
