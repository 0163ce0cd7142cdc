#!/bin/sh
# A stand-in for "runc --root R create --bundle B --pid-file P <id>" (no --console-socket):
# if B/fail exists, prints it on stderr and exits 1; otherwise starts "sh B/payload.sh" in the
# background with this process's stdio, writes its pid to P and exits 0, so the payload is
# reparented to the shim exactly like runc's container init. Records its argv in B/argv.
bundle= pidfile=
printf '%s\n' "$@" > "${TMPDIR:-/tmp}/.fake-runtime-argv.$$"
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle=$2; shift 2 ;;
    --pid-file) pidfile=$2; shift 2 ;;
    --root) shift 2 ;;
    --console-socket) echo "fake runtime: terminals are not supported" >&2; exit 1 ;;
    *) shift ;;
  esac
done
mv "${TMPDIR:-/tmp}/.fake-runtime-argv.$$" "$bundle/argv"
if [ -e "$bundle/fail" ]; then
  cat "$bundle/fail" >&2
  exit 1
fi
# dash gives a background job /dev/null as stdin unless fd 0 is redirected from another fd.
exec 3<&0
sh "$bundle/payload.sh" 0<&3 3<&- &
echo $! > "$pidfile"
