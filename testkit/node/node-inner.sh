#!/usr/bin/env bash
# The test node's container runtime and kubelet, run by testkit/src/kube-node.ts inside
# `unshare -m --propagation private`: every mount made here (a private /run, the faked sysctls,
# /var/log, containerd's overlay snapshots, the pods' volumes and network namespaces) lives in
# this mount namespace only, and is gone when its last process exits.
#
# Environment: NODE_STATE (the node's folder, configs already written), NODE_ASSETS (containerd,
# ctr, containerd-shim-runc-v2, kubelet), NODE_IMAGES (docker-archive tarballs, space-separated).
# SIGTERM stops the kubelet, then whatever containers remain, then containerd, each by its pid.
set -euo pipefail

state=${NODE_STATE:?}
assets=${NODE_ASSETS:?}
sock="$state/containerd/containerd.sock"
log() { echo "node: $*" >&2; }

# containerd, runc and the CNI plugins write /run/containerd, /run/netns, /run/nri: a /run of our own.
mount -n -t tmpfs -o mode=0755 workerpool-node-run /run
# Values the kubelet insists on setting (vm.overcommit_memory, kernel.panic, kernel.panic_on_oops):
# it writes to files bind-mounted over them here, and the machine's settings stay as they are.
for entry in vm/overcommit_memory kernel/panic kernel/panic_on_oops; do
  mount -n --bind "$state/fake-sysctl/${entry##*/}" "/proc/sys/$entry"
done
# The kubelet and the CRI hard-code /var/log/pods and /var/log/containers.
mount -n --bind "$state/varlog" /var/log
# containerd's content store and snapshots in memory: importing the images is quicker, and
# nothing of them is left to delete when the namespace goes (a few GiB; the machine has 24).
mkdir -p "$state/containerd/root" "$state/containerd/state"
mount -n -t tmpfs -o mode=0700 workerpool-node-containerd "$state/containerd/root"

pids=()
stop_pid() { # pid seconds
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq $(( $2 * 10 ))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}
ctr() { "$assets/ctr" --address "$sock" -n k8s.io "$@"; }
shutdown() {
  trap - TERM INT
  [ -n "${kubelet_pid:-}" ] && stop_pid "$kubelet_pid" 10
  if [ -S "$sock" ]; then # containers the kubelet did not stop, and their sandboxes
    for task in $(ctr task ls -q 2>/dev/null); do ctr task kill -s KILL "$task" >/dev/null 2>&1 || true; done
    sleep 0.5
    for task in $(ctr task ls -q 2>/dev/null); do ctr task rm -f "$task" >/dev/null 2>&1 || true; done
  fi
  [ -n "${containerd_pid:-}" ] && stop_pid "$containerd_pid" 10
  exit 0
}
trap shutdown TERM INT

PATH="$assets:$PATH" "$assets/containerd" --config "$state/containerd/config.toml" >"$state/containerd.log" 2>&1 &
containerd_pid=$!
for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { log "containerd did not open $sock"; tail -20 "$state/containerd.log" >&2; exit 1; }
imports=()
for image in ${NODE_IMAGES:-}; do # side by side: each import waits on hashing as much as on the disk
  ctr images import "$image" >/dev/null 2>"$state/import-$(basename "$image").log" &
  imports+=($!)
done
for pid in "${imports[@]}"; do
  wait "$pid" || { log "could not import an image:"; cat "$state"/import-*.log >&2; exit 1; }
done
echo imported >"$state/images-imported"

# No /usr/sbin on PATH: the kubelet finds no iptables binary and leaves the host firewall alone.
PATH=/usr/local/bin:/usr/bin:/bin "$assets/kubelet" --config "$state/kubelet-config.yaml" --root-dir "$state/kubelet" \
  --kubeconfig "$state/kubelet.kubeconfig" --hostname-override localhost --v=1 >"$state/kubelet.log" 2>&1 &
kubelet_pid=$!
pids+=("$containerd_pid" "$kubelet_pid")
# Either process dying ends the node (the harness sees this process exit and reports the logs).
wait -n "${pids[@]}" || true
log "$( kill -0 "$kubelet_pid" 2>/dev/null && echo containerd || echo kubelet ) exited"
shutdown
