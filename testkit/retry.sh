# Retries a step that needs a registry (Debian's mirror, the npm registry, the Go module proxy):
# a registry that answers slowly or drops a connection should cost a retry, not a CI run.
# Sourced by scripts/setup.sh and the build scripts (the TypeScript counterpart is src/retry.ts):
#
#   retry [--timeout SECONDS] [--quiet] "WHAT IT WAITS FOR" command [args...]
#
# Runs the command up to RETRY_ATTEMPTS times (default 4), waiting RETRY_FIRST_DELAY seconds
# (default 10) after the first failure and three times longer after each next one. --timeout ends
# an attempt that has not finished (it must then be a program, not a shell function), so a hung
# download is retried instead of waited on for ever. The command's stdout is passed on once it
# succeeds; its stderr too, unless --quiet. After a failed attempt it says what it waited for, how
# long it tried and the command's last lines; when the last attempt fails it shows that attempt's
# own output and returns its exit status.
retry() {
  local timeout="" quiet=""
  while :; do
    case "${1:-}" in
      --timeout) timeout=$2; shift 2 ;;
      --quiet) quiet=1; shift ;;
      *) break ;;
    esac
  done
  local what=$1
  shift
  local attempts=${RETRY_ATTEMPTS:-4} delay=${RETRY_FIRST_DELAY:-10}
  local out err attempt=1 rc started attempt_started took reason
  out=$(mktemp) err=$(mktemp)
  started=$(date +%s)
  while :; do
    attempt_started=$(date +%s)
    if [ -n "$timeout" ]; then
      timeout --kill-after=10 "$timeout" "$@" >"$out" 2>"$err" && rc=0 || rc=$?
    else
      "$@" >"$out" 2>"$err" && rc=0 || rc=$?
    fi
    took=$(($(date +%s) - attempt_started))
    if [ "$rc" -eq 0 ]; then
      [ -n "$quiet" ] || cat "$err" >&2
      cat "$out"
      rm -f "$out" "$err"
      return 0
    fi
    reason="exit status $rc after ${took}s"
    if [ -n "$timeout" ] && { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; }; then reason="no result within ${timeout}s"; fi
    if [ "$attempt" -ge "$attempts" ]; then
      echo "retry: gave up on $what: $attempts attempts in $(($(date +%s) - started))s, the last one $reason: \`$*\`" >&2
      if [ -s "$out" ]; then echo "  stdout:"; tail -n 20 "$out" | sed 's/^/  | /'; fi >&2
      if [ -s "$err" ]; then echo "  stderr:"; tail -n 60 "$err" | sed 's/^/  | /'; fi >&2
      if [ ! -s "$out" ] && [ ! -s "$err" ]; then echo "  (it printed nothing)"; fi >&2
      rm -f "$out" "$err"
      return "$rc"
    fi
    echo "retry: $what: attempt $attempt of $attempts failed ($reason); trying again in ${delay}s" >&2
    tail -n 15 "$err" | sed 's/^/  | /' >&2
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 3))
  done
}
