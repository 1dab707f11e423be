#!/usr/bin/env bash
# Builds the real ecosystem tools the install tests run, from their published Go modules, once,
# into a cache folder outside the repository; a later run finds them and returns at once:
#   helm                the Helm CLI (helm.sh/helm/v4), for lint / template / install / upgrade / uninstall
#   prometheus          a real Prometheus server (github.com/prometheus/prometheus), that scrapes the
#   promtool            operator and workers, and its rule tester
#   kstatus-health      Flux's health of an object (sigs.k8s.io/cli-utils/pkg/kstatus), ./kstatus-health
#   argocd-health       an Argo CD health.lua run in gopher-lua, Argo CD's Lua VM, ./argocd-health
# Prints the folder. With --check, only prints it when everything is built, and otherwise fails
# at once saying how to build (the tests use this: a cold build takes minutes, too long for a test hook).
#
# One Go module for all five, so the libraries they share (k8s.io/apimachinery, client-go, otel,
# protobuf, ...) are resolved and compiled once. Prometheus is built without service discovery
# (tag remove_all_sd keeps only file and HTTP SD): the tests scrape static loopback targets, and the
# cloud SDKs are most of its build time. Without the builtinassets tag the web UI is not embedded;
# the HTTP API, which the tests use, is unaffected.
set -euo pipefail
# shellcheck source=../../testkit/retry.sh
. "$(dirname "$0")/../../testkit/retry.sh"

HELM_VERSION="${HELM_VERSION:-v4.3.1}"
PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"
CLI_UTILS_VERSION="${CLI_UTILS_VERSION:-v0.37.2}"
GOPHER_LUA_VERSION="${GOPHER_LUA_VERSION:-v1.1.1}"
here="$(cd "$(dirname "$0")" && pwd)"
programs=(kstatus-health argocd-health)

# The folder name carries the versions and a digest of our own programs, so editing one rebuilds.
sources_digest=$(cd "$here" && cat "${programs[@]/%//main.go}" | sha256sum | cut -c1-12)
cache_root="${WORKERPOOL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/workerpool-operator}"
tools="$cache_root/tools/helm-$HELM_VERSION-prometheus-$PROMETHEUS_VERSION-cli-utils-$CLI_UTILS_VERSION-gopher-lua-$GOPHER_LUA_VERSION-$sources_digest"
binaries=(helm prometheus promtool "${programs[@]}")

complete() {
  for b in "${binaries[@]}"; do [ -x "$tools/$b" ] || return 1; done
}
if complete; then echo "$tools"; exit 0; fi
if [ "${1:-}" = "--check" ]; then
  echo "tools build: helm, prometheus, promtool and the health checkers are not built yet: run \`npm run setup\` or \`bash e2e/tools/build.sh\` (needs Go >= 1.26 and the Go module proxy)" >&2
  exit 1
fi

if ! command -v go >/dev/null 2>&1; then
  echo "tools build: the Go toolchain is missing. Install Go >= 1.26 (https://go.dev/doc/install)." >&2
  exit 1
fi

work="$cache_root/tools/build"
log() { echo "tools build: $*" >&2; }
started=$(date +%s)
rm -rf "$work"
mkdir -p "$work" "$tools"
for p in "${programs[@]}"; do mkdir -p "$work/$p" && cp "$here/$p/main.go" "$work/$p/main.go"; done

cat > "$work/go.mod" <<GOMOD
module workerpool.dev/tools

go 1.26

require (
	github.com/prometheus/prometheus $PROMETHEUS_VERSION
	github.com/yuin/gopher-lua $GOPHER_LUA_VERSION
	helm.sh/helm/v4 $HELM_VERSION
	sigs.k8s.io/cli-utils $CLI_UTILS_VERSION
)
GOMOD
cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
	_ "github.com/prometheus/prometheus/cmd/promtool"
	_ "helm.sh/helm/v4/cmd/helm"
)
GO

log "resolving modules (helm $HELM_VERSION, prometheus $PROMETHEUS_VERSION, cli-utils $CLI_UTILS_VERSION, gopher-lua $GOPHER_LUA_VERSION)"
# go mod tidy downloads every module the build needs, so it is the step that waits on the proxy.
(cd "$work" && retry --timeout 1200 --quiet "the Go module proxy: the modules of helm, prometheus, cli-utils and gopher-lua" go mod tidy >/dev/null)

# Prometheus publishes release 3.16.0 as module version v0.316.0.
prometheus_minor=${PROMETHEUS_VERSION#v0.}; prometheus_patch=${prometheus_minor#*.}; prometheus_minor=${prometheus_minor%%.*}
prometheus_release="${prometheus_minor:0:1}.${prometheus_minor:1}.$prometheus_patch"
prometheus_flags="-X github.com/prometheus/common/version.Version=$prometheus_release -X github.com/prometheus/common/version.Branch=HEAD -X github.com/prometheus/common/version.Revision=$PROMETHEUS_VERSION"
helm_flags="-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
log "building helm, prometheus, promtool, ${programs[*]} (several minutes on a cold cache)"
(cd "$work" && CGO_ENABLED=0 go build -trimpath -tags remove_all_sd -ldflags "-s -w $prometheus_flags $helm_flags" -o "$tools/" \
  helm.sh/helm/v4/cmd/helm github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool \
  "${programs[@]/#/./}")

complete || { log "build finished but binaries are missing in $tools"; exit 1; }
log "done in $(( $(date +%s) - started ))s: $tools"
echo "$tools"
