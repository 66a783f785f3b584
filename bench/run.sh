#!/usr/bin/env bash
# The end-to-end open() benchmark (as root): builds what it needs, then runs
# dev.imans.bench.OpenBenchmark with the given options (--files N --size BYTES --rounds R).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/bin/jdk.sh"
imans_find_jdk
(cd "$root" && ./mvnw -q -B -ntp -DskipTests -pl bench -am package >&2)
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  -cp "$root/cli/target/imans.jar:$root/bench/target/classes" dev.imans.bench.OpenBenchmark "$@"
