#!/usr/bin/env bash
# Builds the images the test node runs, with no registry and no Docker engine: Debian's buildah
# (daemonless, chroot isolation) runs the project's own Dockerfiles over base images
# that this script assembles itself, and each image is written as a docker-archive that the
# node's containerd imports. Pods use `imagePullPolicy: Never`.
#
#   debian:bookworm-slim  debootstrap (minbase) from the machine's own Debian mirror
#   node:24-slim          e2e/images/node/Dockerfile: that + the Node 24 the npm registry ships
#   registry.k8s.io/pause the pod sandbox: e2e/images/pause/pause.c, built with gcc -static
#   localhost/workerpool-operator:e2e, localhost/workerpool-worker:e2e
#                         operator/Dockerfile and worker-runtime/Dockerfile, as they ship
#   localhost/workerpool-example-worker:e2e   the worker image + e2e/images/worker-example
#   localhost/workerpool-sidekiq:e2e          Debian's ruby-sidekiq + e2e/images/sidekiq
#   localhost/workerpool-format-workers:e2e   bullmq, list and stream workers (e2e/images/format-workers)
#
# Base images are built once and cached under the workerpool-operator cache folder; the images of
# the project's own code are rebuilt on every run (buildah's layer cache keeps `npm ci` unless the
# lockfile changed). Prints the folder that holds the archives, one <name>.tar per image.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../../testkit/retry.sh
. "$root/testkit/retry.sh"
cache_root="${WORKERPOOL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/workerpool-operator}"
cache="$cache_root/images"
archives="$cache/archives"
mkdir -p "$cache/tmp" "$archives"
log() { echo "images: $*" >&2; }
started=$(date +%s)

for tool in buildah debootstrap gcc; do
  command -v "$tool" >/dev/null 2>&1 || { log "$tool is missing: run npm run setup (Debian: apt-get install buildah debootstrap gcc)"; exit 1; }
done
# buildah keeps its cache mounts and scratch files under TMPDIR: keep them in our cache too.
export TMPDIR="$cache/tmp"
# overlay storage keeps each layer as a diff (vfs would copy the whole tree per layer). Every
# mount buildah makes stays in a private mount namespace of its own, gone when buildah exits.
buildah() { unshare -m --propagation private buildah --root "$cache/storage" --runroot "$cache/run" --storage-driver overlay "$@"; }
has_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }
build() { # build TAG CONTEXT [DOCKERFILE] [buildah bud args...]
  local tag=$1 context=$2 dockerfile=${3:-$2/Dockerfile}
  shift 3 || shift $#
  log "building $tag"
  buildah bud --quiet --isolation chroot --pull=never --layers -f "$dockerfile" -t "$tag" "$@" "$context" >/dev/null
}

# The Debian mirror this machine's apt uses, so that nothing else is named here.
debian_mirror() {
  local mirror
  mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)
  [ -n "$mirror" ] || mirror=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\)[[:space:]]\+bookworm[[:space:]].*/\2/p' /etc/apt/sources.list 2>/dev/null | head -1)
  [ -n "$mirror" ] || { log "could not find a Debian mirror in /etc/apt/sources.list(.d)"; exit 1; }
  echo "$mirror"
}

if ! has_image docker.io/library/debian:bookworm-slim; then
  log "debootstrap bookworm (minbase), a few minutes once"
  rootfs="$cache/tmp/debian-rootfs"
  rm -rf "$rootfs" "$cache/tmp/debian"
  mirror=$(debian_mirror)
  # Each attempt starts from an empty folder: debootstrap does not resume a half-made one.
  fresh_debootstrap() { rm -rf "$rootfs" && timeout --kill-after=10 1800 debootstrap --variant=minbase bookworm "$rootfs" "$mirror"; }
  retry --quiet "debootstrap: bookworm's packages from $mirror" fresh_debootstrap >/dev/null
  rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
  mkdir -p "$cache/tmp/debian"
  tar -C "$rootfs" -cf "$cache/tmp/debian/rootfs.tar" .
  build docker.io/library/debian:bookworm-slim "$cache/tmp/debian" "$here/debian/Dockerfile"
  rm -rf "$rootfs" "$cache/tmp/debian"
fi

# Node 24 is the one the project itself runs on (node_modules/.bin/node, from the npm registry);
# npm comes from the registry too, as the `npm` package.
node_bin=$(readlink -f "$root/node_modules/.bin/node")
[ -x "$node_bin" ] || { log "no Node 24 in node_modules/.bin/node: run npm ci first"; exit 1; }
node_version=$("$node_bin" --version)
npm_version=${WORKERPOOL_IMAGE_NPM_VERSION:-11.6.2}
ca_bundle=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$ca_bundle" ] || { log "no CA bundle at $ca_bundle (Debian: ca-certificates)"; exit 1; }
node_id="$node_version-npm-$npm_version-ca-$(sha256sum "$ca_bundle" | cut -c1-12)"
node_tag=docker.io/library/node:24-slim
if [ "$(buildah inspect --type image --format '{{index .ImageAnnotations "workerpool.dev/node-base"}}' "$node_tag" 2>/dev/null)" != "$node_id" ]; then
  context="$cache/tmp/node"
  rm -rf "$context" && mkdir -p "$context/npm"
  cp "$node_bin" "$context/node"
  cp "$ca_bundle" "$context/ca-certificates.crt"
  (cd "$cache/tmp" && retry --timeout 300 --quiet "npm pack: npm@$npm_version from the npm registry" npm pack --loglevel=http "npm@$npm_version" >/dev/null)
  tar -C "$context/npm" --strip-components=1 -xzf "$cache/tmp/npm-$npm_version.tgz"
  rm -f "$cache/tmp/npm-$npm_version.tgz"
  build "$node_tag" "$context" "$here/node/Dockerfile" --annotation "workerpool.dev/node-base=$node_id"
  rm -rf "$context"
fi

pause_tag=registry.k8s.io/pause:3.10
if ! has_image "$pause_tag"; then
  context="$cache/tmp/pause"
  rm -rf "$context" && mkdir -p "$context"
  gcc -static -O2 -o "$context/pause" "$here/pause/pause.c"
  printf 'FROM scratch\nCOPY pause /pause\nENTRYPOINT ["/pause"]\n' >"$context/Dockerfile"
  build "$pause_tag" "$context"
  rm -rf "$context"
fi

# The project's own images, from the repository root as their Dockerfiles say. Their RUN steps
# install from the npm registry (npm ci, npm install) or the Debian mirror (apt-get).
retry "the npm registry, building the operator image" build localhost/workerpool-operator:e2e "$root" "$root/operator/Dockerfile"
retry "the npm registry, building the worker image" build localhost/workerpool-worker:e2e "$root" "$root/worker-runtime/Dockerfile"
build localhost/workerpool-example-worker:e2e "$here/worker-example"
retry "the Debian mirror, building the Sidekiq image" build localhost/workerpool-sidekiq:e2e "$here/sidekiq"
retry "the npm registry, building the format workers' image" build localhost/workerpool-format-workers:e2e "$here/format-workers"

export_archive() { # name tag
  local out="$archives/$1.tar" id
  id=$(buildah inspect --type image --format '{{.FromImageID}}' "$2")
  # An archive of the same image id is already there: containerd would import the same bytes.
  if [ -f "$out" ] && [ "$(cat "$out.id" 2>/dev/null)" = "$id" ]; then return; fi
  rm -f "$out"
  buildah push --quiet "$2" "docker-archive:$out:$2" >/dev/null
  echo "$id" >"$out.id"
}
export_archive pause "$pause_tag"
export_archive operator localhost/workerpool-operator:e2e
export_archive worker localhost/workerpool-worker:e2e
export_archive example-worker localhost/workerpool-example-worker:e2e
export_archive sidekiq localhost/workerpool-sidekiq:e2e
export_archive format-workers localhost/workerpool-format-workers:e2e

log "done in $(( $(date +%s) - started ))s"
echo "$archives"
