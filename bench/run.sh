#!/usr/bin/env bash
# The benchmarks (as root): builds what they need, then runs
#   bench/run.sh [--files N] [--size BYTES] [--rounds R] [--prime N] [--fs tmpfs,ext4,overlay,host]
#                [--configs no_policy,appraise,...] [--start-rounds R]
#                                                           dev.imans.bench.OpenBenchmark (open() cost, then
#                                                           in the same table python3's start in containers,
#                                                           --start-rounds 0 to leave it out)
#   bench/run.sh mount-window [--mounts N] [--pause MS]     dev.imans.bench.MountWindowBenchmark (how long
#                                                           a new mount in a namespace goes unchecked)
#   bench/run.sh start [--rounds R] [--daemon process|embedded]
#                                                           dev.imans.bench.StartBenchmark alone (python3
#                                                           importing the standard library in containers of
#                                                           one image; the daemon in a process of its own, as
#                                                           in production, unless embedded in the harness)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/bin/jdk.sh"
imans_find_jdk
(cd "$root" && ./mvnw -q -B -ntp -DskipTests -pl bench -am package >&2)
main=dev.imans.bench.OpenBenchmark
case "${1:-}" in
  mount-window) main=dev.imans.bench.MountWindowBenchmark; shift ;;
  start) main=dev.imans.bench.StartBenchmark; shift ;;
esac
# The C opener and native anchor listeners (bench/native/*.c) are built with cc by OpenBenchmark.
# The daemon's heap settings (bin/imans), so that what is measured is what runs.
# Word-split, never globbed (IMANS_BENCH_JAVA_OPTS may hold a pattern).
set -f
exec "$JAVA_HOME/bin/java" ${IMANS_BENCH_JAVA_OPTS:--Xms16m -Xmx1g -XX:MinHeapFreeRatio=5 -XX:MaxHeapFreeRatio=20 -XX:TrimNativeHeapInterval=2000} --enable-native-access=ALL-UNNAMED -Dimans.bench.native="$root/bench/native" \
  -cp "$root/cli/target/imans.jar:$root/bench/target/classes" "$main" "$@"
