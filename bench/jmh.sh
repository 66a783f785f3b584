#!/usr/bin/env bash
# The JMH micro-benchmarks (policy evaluation cost by policy size). Extra arguments go to JMH,
# e.g. bench/jmh.sh -f 1 -wi 2 -i 3.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/bin/jdk.sh"
imans_find_jdk
cpfile="$root/bench/target/jmh.classpath"
# The modules last written by the reactor are bench's, so the file ends up holding its class path.
(cd "$root" && ./mvnw -q -B -ntp -DskipTests -pl bench -am package dependency:build-classpath \
  -Dmdep.outputFile="$cpfile" >&2)
exec "$JAVA_HOME/bin/java" -cp "$root/bench/target/classes:$(cat "$cpfile")" org.openjdk.jmh.Main "$@" \
  'dev.imans.bench.jmh.*'
