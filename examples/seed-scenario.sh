#!/usr/bin/env bash
# The seed's IMA-namespace session, end to end, on this machine (as root): start the imans daemon,
# make a mount namespace with a tmpfs at /tmp, label a file owned by uid 71452, register the
# namespace and write the seed's policy through the control filesystem, read the file, tamper with
# it, be refused, and show the audit record. Everything it starts or mounts is removed at the end.
# IMANS names the imans command to run (default: this checkout's bin/imans; /usr/bin/imans for the
# package). With IMANS_SERVICE=1 it starts no daemon and uses the one running as a service (control
# files at /run/imans/ima, audit log /var/log/imans/audit.log, the package's defaults).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
imans=${IMANS:-$root/bin/imans}
[ "$(id -u)" = 0 ] || { echo "seed-scenario: must run as root" >&2; exit 1; }
# What running it needs (libfuse3, fusermount3, setfattr, unshare) is installed when missing.
"$root/bin/setup-deps" run

work=$(mktemp -d /run/imans-seed.XXXXXX)
IMA=$work/ima
log=$work/audit.log
daemon_pid=
service=${IMANS_SERVICE:-}
if [ -n "$service" ]; then
  IMA=/run/imans/ima
  log=/var/log/imans/audit.log
fi
cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  mountpoint -q "$IMA" 2>/dev/null && umount -l "$IMA" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

if [ -n "$service" ]; then
  step "using the imans service (control files at $IMA, audit log $log)"
  [ -e "$IMA/namespaces" ] || { echo "no imans service serves $IMA" >&2; exit 1; }
  : > "$work/daemon.log"
else
step "building and starting the daemon (control files at $IMA, audit log $log)"
# Marks only filesystems mounted inside registered namespaces, so this demo never holds up the
# host's own files; without --namespace-filesystems-only every filesystem is enforced.
"$imans" daemon --control "$IMA" --state "$work/state" --audit-log "$log" \
  --namespace-filesystems-only 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 1 600); do
  [ -e "$IMA/namespaces" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/daemon.log" >&2; exit 1; }
  sleep 0.1
done
[ -e "$IMA/namespaces" ] || { echo "daemon did not come up" >&2; cat "$work/daemon.log" >&2; exit 1; }
echo "daemon pid $daemon_pid is ready"
fi

step "in a new mount namespace (unshare -m):"
IMA=$IMA unshare -m --propagation private sh -s <<'SESSION'
say() { printf '%s\n' "\$ $*"; }
run() { say "$@"; sh -c "$* 2>&1"; echo "   -> exit $?"; }
sensitive=/tmp/foo
user=71452
run mount -t tmpfs tmpfs /tmp
run "echo hello > $sensitive"
run chown $user $sensitive
# The digest is taken before the policy is written, as the kernel captures do: once the policy is in
# force, reading the still unlabelled file to hash it is itself refused (missing-hash), exactly as
# kernel IMA refuses it; the seed's README computes it after and would hit that.
hash=$(sha256sum $sensitive | cut -d' ' -f1)
say "hash=\$(sha256sum $sensitive)   # $hash"
nsid=$(readlink /proc/self/ns/mnt | sed 's/[^0-9]//g')
say "nsid=\$(readlink /proc/self/ns/mnt | cut -c 6-15)   # $nsid"
run "echo $nsid > $IMA/namespaces"
run "printf \"appraise fsmagic=0x01021994 fowner=$user\\nappraise func=MODULE_CHECK\" > $IMA/$nsid/policy"
run "cat $IMA/$nsid/policy"
run "setfattr -n security.ima -v 0x0404$hash $sensitive"
run "cat $sensitive"
run "echo foo > $sensitive"
run "cat $sensitive"
say "(fanotify can only refuse with EPERM, \"Operation not permitted\"; kernel IMA says EACCES)"
SESSION

step "the audit record (type 1800) the denial produced:"
for _ in $(seq 1 50); do grep -q '^type=1800 ' "$log" 2>/dev/null && break; sleep 0.1; done
grep "^type=1800 " "$log" || { echo "no audit record found; daemon log:" >&2; cat "$work/daemon.log" >&2; exit 1; }

if [ -n "$service" ]; then
  echo "done (the service keeps running)"
  exit 0
fi
step "the namespace is gone with its last process; stopping the daemon"
kill -TERM "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=
echo "done"
