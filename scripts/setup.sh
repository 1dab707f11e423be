#!/usr/bin/env bash
# Brings a fresh Debian machine to the point where the product runs and its tests pass:
# Node 24 (from the npm registry, as the `node` package), the project's packages,
# redis-server (Debian), the Kubernetes control plane and the test node's kubelet and containerd
# built from their Go modules, the test node's images (built with buildah), and the ecosystem tools
# (helm, prometheus, promtool, the Flux and Argo CD health checkers) built from their Go modules.
# Safe to run again: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=../testkit/retry.sh
. testkit/retry.sh

setup_started=$(date +%s)
step_started=$setup_started
log() { echo "setup: $*" >&2; }
# Each step's time, so that a slow CI run says where the time went.
step_done() {
  local now
  now=$(date +%s)
  log "$1 took $((now - step_started))s"
  step_started=$now
}

debian_packages=()
command -v redis-server >/dev/null 2>&1 || debian_packages+=(redis-server)
command -v redis-benchmark >/dev/null 2>&1 || debian_packages+=(redis-tools)
# Real Sidekiq 6 (Ruby) writes queue data that the Sidekiq reader is checked against.
ruby -e 'require "sidekiq/api"' >/dev/null 2>&1 || debian_packages+=(ruby-sidekiq)
# Sidekiq 6 apps that share a Redis through its `namespace:` option need the redis-namespace gem.
ruby -e 'require "redis/namespace"' >/dev/null 2>&1 || debian_packages+=(ruby-redis-namespace)
# The test node (testkit/src/kube-node.ts): runc and the CNI plugins beside the containerd we
# build; buildah and debootstrap make its images without a registry; openssl its certificates.
command -v runc >/dev/null 2>&1 || debian_packages+=(runc)
[ -x /usr/lib/cni/bridge ] || debian_packages+=(containernetworking-plugins)
command -v buildah >/dev/null 2>&1 || debian_packages+=(buildah)
command -v debootstrap >/dev/null 2>&1 || debian_packages+=(debootstrap)
command -v openssl >/dev/null 2>&1 || debian_packages+=(openssl)
command -v ip >/dev/null 2>&1 || debian_packages+=(iproute2)
command -v gcc >/dev/null 2>&1 || debian_packages+=(gcc libc6-dev)
if [ ${#debian_packages[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing ${debian_packages[*]} and this is not a Debian-like system: install them by hand"; exit 1
  fi
  log "installing ${debian_packages[*]} from Debian"
  retry --timeout 600 "apt-get update: the package lists of the Debian mirrors" $sudo apt-get update -qq
  retry --timeout 1200 --quiet "apt-get install: ${debian_packages[*]} from the Debian mirrors" \
    env DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${debian_packages[@]}" >/dev/null
  # Debian starts a redis-server service on install; the tests start their own on free ports.
  step_done "Debian packages"
fi

if ! command -v npm >/dev/null 2>&1; then
  log "npm is missing: install Node.js (any version >= 18) so that npm can bring in Node 24"; exit 1
fi
log "installing packages (this brings Node 24 from the npm registry into node_modules/.bin/node)"
# npm's own fetch timeout is 5 minutes per request: a stalled connection should cost a retry instead.
retry --timeout 900 --quiet "npm ci: the project's packages from the npm registry" \
  npm ci --no-audit --no-fund --loglevel=http --fetch-timeout=60000 --fetch-retries=3
node_version=$(node_modules/.bin/node --version)
case "$node_version" in
  v24.*) log "Node $node_version" ;;
  *) log "expected Node 24 in node_modules/.bin/node, found $node_version"; exit 1 ;;
esac
step_done "npm ci"

log "control plane and test node (kube-apiserver, etcd, kubectl, kube-controller-manager, kube-scheduler, kubelet, containerd)"
assets=$(bash testkit/control-plane/build.sh)
log "Kubernetes binaries in $assets"
step_done "control plane and test node"

log "test node images (debootstrap and buildah; the base images once, the project's own each run)"
images=$(bash e2e/images/build.sh)
log "image archives in $images"
step_done "test node images"

# After the Kubernetes build, so the two Go builds never compete for the machine's cores.
log "ecosystem tools (helm, prometheus, promtool, kstatus-health, argocd-health)"
tools=$(bash e2e/tools/build.sh)
log "ecosystem tools in $tools"
step_done "ecosystem tools"
log "done in $(($(date +%s) - setup_started))s"
