#!/usr/bin/env bash
# Brings a fresh Debian machine to the point where the product runs and its tests pass:
# Node 24 (from the npm registry, as the `node` package), the project's packages,
# redis-server and lua5.1 (Debian), and the Kubernetes control plane built from its Go modules.
# Safe to run again: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "setup: $*" >&2; }

debian_packages=()
command -v redis-server >/dev/null 2>&1 || debian_packages+=(redis-server)
command -v redis-benchmark >/dev/null 2>&1 || debian_packages+=(redis-tools)
command -v lua5.1 >/dev/null 2>&1 || debian_packages+=(lua5.1)
# Real Sidekiq 6 (Ruby) writes queue data that the Sidekiq reader is checked against.
ruby -e 'require "sidekiq/api"' >/dev/null 2>&1 || debian_packages+=(ruby-sidekiq)
if [ ${#debian_packages[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing ${debian_packages[*]} and this is not a Debian-like system: install them by hand"; exit 1
  fi
  log "installing ${debian_packages[*]} from Debian"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${debian_packages[@]}" >/dev/null
  # Debian starts a redis-server service on install; the tests start their own on free ports.
fi

if ! command -v npm >/dev/null 2>&1; then
  log "npm is missing: install Node.js (any version >= 18) so that npm can bring in Node 24"; exit 1
fi
log "installing packages (this brings Node 24 from the npm registry into node_modules/.bin/node)"
npm ci --no-audit --no-fund --loglevel=error
node_version=$(node_modules/.bin/node --version)
case "$node_version" in
  v24.*) log "Node $node_version" ;;
  *) log "expected Node 24 in node_modules/.bin/node, found $node_version"; exit 1 ;;
esac

log "control plane (kube-apiserver, etcd, kubectl, kube-controller-manager)"
assets=$(bash e2e/control-plane/build.sh)
log "control-plane binaries in $assets"
