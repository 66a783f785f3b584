#!/usr/bin/env bash
# The daemon's memory after it has appraised N files (default 100000): a real `imans daemon` process,
# a mount namespace with a tmpfs of N small labelled files, registered with `appraise fsmagic=tmpfs`,
# every file read once from inside. Prints VmRSS/VmHWM idle and after, and the Java heap in use after
# a full GC (jcmd). As root.
set -euo pipefail
root=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
cd "$root"
n=${1:-100000}
. bin/jdk.sh
imans_find_jdk >/dev/null
work=$(mktemp -d /run/imans-rss.XXXXXX)
ctl=$work/ima
dpid=
cleanup() {
  if [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null; then
    kill -TERM "$dpid"; for _ in $(seq 1 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
  fi
  mountpoint -q "$ctl" 2>/dev/null && umount -l "$ctl" || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck disable=SC2086 # IMANS_RSS_DAEMON_ARGS: more daemon options, e.g. --no-rehearsal
bin/imans daemon --control "$ctl" --state "$work/state" --watch-fs tmpfs --namespace-filesystems-only ${IMANS_RSS_DAEMON_ARGS:-} \
  2>"$work/daemon.log" &
dpid=$!
for _ in $(seq 1 600); do [ -e "$ctl/namespaces" ] && break; sleep 0.1; done
[ -e "$ctl/namespaces" ] || { cat "$work/daemon.log" >&2; exit 1; }
# Idle is after the start's warm-up and rehearsal (`warm-up done` in the log), as a daemon started at
# boot is by the time its first container comes.
for _ in $(seq 1 600); do grep -q "warm-up done" "$work/daemon.log" && break; sleep 0.1; done
grep "warm-up done" "$work/daemon.log" | sed 's/^.*info: /daemon /'
mem() { awk '/^VmRSS|^VmHWM/ {printf "%s %d MiB  ", $1, $2 / 1024} END {print ""}' "/proc/$dpid/status"; }
echo "daemon idle: $(mem)"
IMA=$ctl N=$n ROOT=$root unshare -m --propagation private sh -s <<'SESSION'
set -e
mount -t tmpfs -o size=2g rss /tmp
mkdir /tmp/f
i=0
while [ "$i" -lt "$N" ]; do echo "$i" > "/tmp/f/$i"; i=$((i + 1)); done
"$ROOT/bin/imans" hash -r --set /tmp/f > /dev/null
nsid=$(readlink /proc/self/ns/mnt | sed 's/[^0-9]//g')
echo "$nsid" > "$IMA/namespaces"
printf 'appraise fsmagic=0x01021994\n' > "$IMA/$nsid/policy"
start=$(date +%s.%N)
find /tmp/f -type f -exec cat {} + > /dev/null
end=$(date +%s.%N)
echo "read $N labelled files in the registered namespace in $(echo "$end - $start" | bc) s"
SESSION
echo "daemon after appraising $n files: $(mem)"
# The launcher has the JVM give freed native memory back every 2 s (-XX:TrimNativeHeapInterval).
sleep 5
echo "5 s later: $(mem)"
"$JAVA_HOME/bin/jcmd" "$dpid" GC.run > /dev/null
sleep 5
echo "after a full GC, 5 s later: $(mem)"
"$JAVA_HOME/bin/jcmd" "$dpid" GC.heap_info | grep -E "used|total" | head -3
# What holds the heap, largest first (the first rows say what a cached file costs).
"$JAVA_HOME/bin/jcmd" "$dpid" GC.class_histogram | sed -n "1,24p"
