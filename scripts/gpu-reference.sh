#!/usr/bin/env bash
# The GPU reference run, in pieces that fit short leases on a machine with a GPU.
#
#   scripts/gpu-reference.sh [SECONDS] [STAGE...]     (defaults: 540 reproduce tests)
#
# SECONDS (the whole call) and a stage's :SECONDS are whole numbers from 0 to 999999 in decimal
# digits (leading zeros too: 0540 is 540). Any other argument is refused in one line, status 2,
# before anything runs; the line `gpu-reference: 540 s for reproduce tests` shows what was read.
#
# Stages, run in order while time is left (each is cut at the deadline and resumed by the next
# call, so a run too long for one lease finishes over several); STAGE:SECONDS caps a stage:
#   reproduce  `relukan-bench reproduce --device auto` into $RUN (results/reference-gpu): speed on
#              the CPU and CUDA, fit and forgetting on CUDA with a worker per core; started, or
#              resumed when $RUN exists. The pykan baselines are left out here (see baselines).
#   tests      the CUDA variants of the tests (pytest -k cuda), log in $OUT/tests.log.
#   baselines  `relukan-bench pykan install 0.0.5 0.1.2` from the carried wheels, then the
#              baselines config's speed run on CUDA into $RUN-baselines (started or resumed).
# Every call ends by packing $RUN (and $RUN-baselines) into $OUT as split .tar.xz parts, bulk
# logs included; a later call on a fresh machine that finds such parts in $PARTS (default
# .parts) and no $RUN unpacks them first, and so resumes where the last lease stopped.
#
# Environment: OUT (default /tmp/gpu-reference-out), RUN, WHEELS (default .whl: wheels from
# scripts/offline-wheels.sh, installed beside the machine's torch when present), PYTHON
# (python3), QUICK=1 (smoke run: --quick, to check this script on a CPU), RELUKAN_BENCH_COMMIT
# (the checkout's commit, recorded where the copy has no .git), BASELINES_DEVICE (cuda).
set -uo pipefail
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
say() { echo "gpu-reference: $*" >&2; }
. "$(dirname "$0")/args.sh"  # refuse, decimal
for arg; do case $arg in -h|--help) usage; exit 0 ;; esac; done
for arg; do
  case $arg in --*|-[!0123456789]*) refuse "unknown option: the only options are -h and --help" "$arg" ;; esac
done
budget=540 stages=(reproduce tests)
if [ $# -gt 0 ]; then
  decimal "$1" || refuse "SECONDS: expected a whole number of seconds, 0 to 999999" "$1"
  budget=$num; shift
fi
# `stage_ok STAGE`: status 0 for reproduce, tests or baselines, optionally :SECONDS (into $num).
stage_ok() {
  case ${1%%:*} in reproduce|tests|baselines) ;; *) return 1 ;; esac
  [[ $1 != *:* ]] || decimal "${1#*:}"
}
[ $# -eq 0 ] || stages=()
for stage; do
  stage_ok "$stage" \
    || refuse "STAGE: expected reproduce, tests or baselines, optionally :SECONDS from 0 to 999999" "$stage"
  if [[ $stage == *:* ]]; then stages+=("${stage%%:*}:$num"); else stages+=("$stage"); fi
done
say "$budget s for ${stages[*]}"
start=$(date +%s)
out=${OUT:-/tmp/gpu-reference-out}
run=${RUN:-results/reference-gpu}
py=${PYTHON:-python3}
wheels=${WHEELS:-.whl}
[ -d "$wheels" ] && wheels=$(cd "$wheels" && pwd)  # absolute: pip reads it from elsewhere too
parts=${PARTS:-.parts}
quick=()
[ "${QUICK:-0}" = 1 ] && quick=(--quick)
reserve=60  # seconds kept for packing the results

stage_end=0  # a stage's own deadline (STAGE:SECONDS), 0 for none
left() {
  local now overall; now=$(date +%s); overall=$(( budget - (now - start) - reserve ))
  if [ "$stage_end" -gt 0 ] && [ $(( stage_end - now )) -lt "$overall" ]; then echo $(( stage_end - now )); else echo "$overall"; fi
}

setup() {
  if compgen -G "$wheels/*.whl" >/dev/null; then
    local site=/tmp/relukan-site
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" \
        $(ls "$wheels"/*.whl | grep -v '/pykan-0\.[01]\.') || { say "cannot install $wheels"; exit 1; }
    export PYTHONPATH="$site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
  else
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
  fi
  export PYTHONUNBUFFERED=1
  "$py" -c 'import torch, relukan_bench; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' \
    || { say "the package does not import"; exit 1; }
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
}

# `timed SECONDS CMD...`: CMD with Ctrl-C at the deadline (a run keeps its finished units).
timed() {
  local seconds=$1; shift
  [ "$seconds" -gt 30 ] || { say "no time left for: $*"; return 124; }
  timeout -s INT -k 90 "$seconds" "$@"
}

stage_reproduce() {
  local none=/tmp/relukan-no-baselines; mkdir -p "$none"
  if [ -f "$run/env.json" ]; then
    RELUKAN_BENCH_PYKAN_HOME=$none timed "$(left)" "$py" -m relukan_bench reproduce --resume "$run"
  else
    RELUKAN_BENCH_PYKAN_HOME=$none timed "$(left)" "$py" -m relukan_bench reproduce --device auto "${quick[@]}" --out "$run"
  fi
}

stage_tests() {
  timed "$(left)" "$py" -m pytest -q -p no:cacheprovider -n 8 -k cuda tests 2>&1 | tee "$out/tests.log" | tail -5
}

stage_baselines() {
  export RELUKAN_BENCH_PYKAN_HOME=/tmp/relukan-pykan
  PIP_NO_INDEX=1 PIP_FIND_LINKS="$wheels" "$py" -m relukan_bench pykan install 0.0.5 0.1.2 || return 1
  if [ -f "$run-baselines/env.json" ]; then
    timed "$(left)" "$py" -m relukan_bench speed --resume "$run-baselines"
  else
    timed "$(left)" "$py" -m relukan_bench speed -c speed-baselines --device "${BASELINES_DEVICE:-cuda}" "${quick[@]}" --out "$run-baselines"
  fi
}

unpack() {
  local dir name
  for dir in "$run" "$run-baselines"; do
    name=$(basename "$dir")
    if [ ! -d "$dir" ] && compgen -G "$parts/$name.tar.xz.part*" >/dev/null; then
      cat "$parts/$name".tar.xz.part* | xz -d | tar -xf - || { say "cannot unpack $parts/$name"; exit 1; }
      say "unpacked $dir from $parts"
    fi
  done
}

pack() {
  local dir name
  for dir in "$run" "$run-baselines"; do
    [ -d "$dir" ] || continue
    name=$(basename "$dir")
    rm -f "$out/$name".tar.xz.part*
    tar -cf - "$dir" | xz -T0 -6 | split -b 15M -d - "$out/$name.tar.xz.part"
    say "packed $dir into $(ls "$out/$name".tar.xz.part* | wc -l) part(s) in $out"
  done
}

mkdir -p "$out"
setup
unpack
for stage in "${stages[@]}"; do
  name=${stage%%:*} cap=${stage#"$name"}; cap=${cap#:}
  stage_end=0; [ -n "$cap" ] && stage_end=$(( $(date +%s) + cap ))
  say "$name ($(left) s left)"; "stage_$name"; say "$name ended with status $?"
done
pack
say "done in $(( $(date +%s) - start )) s"
