# Reading the scripts' arguments, sourced by gpu-reference.sh and offline-wheels.sh.
# `refuse WHAT VALUE`: one line on stderr, VALUE quoted (control characters escaped, cut to 80
# characters), and exit status 2; every argument is checked this way before anything runs.
refuse() {
  local shown; printf -v shown %q "${2:0:80}"; [ "${#2}" -le 80 ] || shown+=...
  printf 'error: %s (got %s)\n' "$1" "$shown" >&2; exit 2
}
# `decimal VALUE`: VALUE into $num when it is a whole number of at most 6 ASCII digits, else
# status 1. Leading zeros go first: bash reads 0540 as octal (352) and 08 not at all.
decimal() {
  local digits=${1#"${1%%[!0]*}"}
  case $1 in ''|*[!0123456789]*) return 1 ;; esac
  [ "${#digits}" -le 6 ] || return 1
  num=$(( 10#${digits:-0} ))
}
