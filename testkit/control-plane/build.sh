#!/usr/bin/env bash
# Builds the real Kubernetes binaries that the integration and end-to-end tests run against
# (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kubectl, etcd and
# containerd 2.x with its runc shim and ctr) from their published Go modules, once, into a
# cache folder outside the repository. A later run finds the binaries and returns at once.
# Prints the folder (the envtest KUBEBUILDER_ASSETS layout, plus the node's binaries).
#
# Why from source: the machines reach only the Go module proxy, and Debian's etcd (3.4.23)
# is older than kube-apiserver 1.36 accepts.
set -euo pipefail
# shellcheck source=../retry.sh
. "$(dirname "$0")/../retry.sh"

KUBERNETES_VERSION="${KUBERNETES_VERSION:-v1.36.3}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
CONTAINERD_VERSION="${CONTAINERD_VERSION:-v2.3.7}"
cache_root="${WORKERPOOL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/workerpool-operator}"
assets="$cache_root/control-plane/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-containerd-$CONTAINERD_VERSION"
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl etcd containerd containerd-shim-runc-v2 ctr)

complete() {
  for b in "${binaries[@]}"; do [ -x "$assets/$b" ] || return 1; done
}
if complete; then echo "$assets"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  echo "control-plane build: the Go toolchain is missing. Install Go >= 1.25 (https://go.dev/doc/install)," >&2
  echo "or point KUBEBUILDER_ASSETS at a folder holding kube-apiserver, etcd and kubectl." >&2
  exit 1
fi

work="$cache_root/control-plane/build-$KUBERNETES_VERSION-$ETCD_VERSION-$CONTAINERD_VERSION"
mkdir -p "$work/kubernetes" "$work/etcd" "$work/containerd" "$assets"
log() { echo "control-plane build: $*" >&2; }
started=$(date +%s)

# k8s.io/kubernetes requires each staging module at v0.0.0 and replaces it with ./staging;
# a consumer's go.mod must replace each with the published v0.<minor>.<patch> instead.
staging_version="v0.${KUBERNETES_VERSION#v1.}"
log "reading k8s.io/kubernetes@$KUBERNETES_VERSION's go.mod"
k8s_gomod=$(cd "$work/kubernetes" && GOFLAGS=-mod=mod retry --timeout 600 "the Go module proxy: k8s.io/kubernetes@$KUBERNETES_VERSION" \
  go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
staging_modules=$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$k8s_gomod" | sort -u)
[ -n "$staging_modules" ] || { log "found no staging replaces in $k8s_gomod"; exit 1; }

{
  echo "module workerpool.dev/control-plane-build"
  echo
  echo "go 1.25"
  echo
  echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
  echo
  echo "replace ("
  for m in $staging_modules; do echo "	$m => $m $staging_version"; done
  echo ")"
} > "$work/kubernetes/go.mod"
cat > "$work/kubernetes/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO

cat > "$work/etcd/go.mod" <<GOMOD
module workerpool.dev/etcd-build

go 1.25

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
cat > "$work/etcd/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO

version_flags() {
  local pkg=$1 v=$2 major minor
  major=${v#v}; major=${major%%.*}
  minor=${v#v*.}; minor=${minor%%.*}
  echo "-s -w -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
}

log "resolving modules for Kubernetes $KUBERNETES_VERSION"
# go mod tidy downloads every module the build needs, so it is the step that waits on the proxy.
(cd "$work/kubernetes" && retry --timeout 1200 --quiet "the Go module proxy: the modules of Kubernetes $KUBERNETES_VERSION" go mod tidy -e >/dev/null)
log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kubectl (several minutes on a cold cache)"
(cd "$work/kubernetes" && CGO_ENABLED=0 go build -trimpath \
  -ldflags "$(version_flags k8s.io/component-base/version "$KUBERNETES_VERSION")" \
  -o "$assets/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubectl)

log "building etcd $ETCD_VERSION"
(cd "$work/etcd" && retry --timeout 1200 --quiet "the Go module proxy: the modules of etcd $ETCD_VERSION" go mod tidy >/dev/null)
(cd "$work/etcd" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$assets/etcd" go.etcd.io/etcd/server/v3)

# The test node's container runtime. containerd 2.x: the 1.36 kubelet warns that 1.x is losing
# support. Static, without the snapshotters that need cgo or kernel modules we do not use.
cat > "$work/containerd/go.mod" <<GOMOD
module workerpool.dev/containerd-build

go 1.25

require github.com/containerd/containerd/v2 $CONTAINERD_VERSION
GOMOD
cat > "$work/containerd/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "github.com/containerd/containerd/v2/cmd/containerd"
	_ "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2"
	_ "github.com/containerd/containerd/v2/cmd/ctr"
)
GO
log "building containerd $CONTAINERD_VERSION"
(cd "$work/containerd" && retry --timeout 1200 --quiet "the Go module proxy: the modules of containerd $CONTAINERD_VERSION" go mod tidy >/dev/null)
(cd "$work/containerd" && CGO_ENABLED=0 go build -trimpath -tags "no_btrfs no_devmapper no_zfs" \
  -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" -o "$assets/" \
  github.com/containerd/containerd/v2/cmd/containerd github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
  github.com/containerd/containerd/v2/cmd/ctr)

complete || { log "build finished but binaries are missing in $assets"; exit 1; }
log "done in $(( $(date +%s) - started ))s: $assets"
echo "$assets"
