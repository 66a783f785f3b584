# Sourced by the scripts in bin/: sets JAVA_HOME to a JDK >= 25 or fails with a clear message.
# Order: $JAVA_HOME if it is new enough, then the newest /usr/lib/jvm/* that is.
imans_java_major() {
  local rel="$1/release" v
  [ -x "$1/bin/java" ] || return 1
  if [ -r "$rel" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel")
  else
    v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  fi
  [ -n "$v" ] && echo "$v"
}

imans_find_jdk() {
  local d m best="" best_m=0
  if [ -n "${JAVA_HOME:-}" ] && m=$(imans_java_major "$JAVA_HOME") && [ "$m" -ge 25 ]; then
    return 0
  fi
  for d in /usr/lib/jvm/*; do
    [ -d "$d" ] || continue
    m=$(imans_java_major "$d") || continue
    if [ "$m" -ge 25 ] && [ "$m" -gt "$best_m" ]; then best="$d"; best_m=$m; fi
  done
  if [ -z "$best" ]; then
    echo "imans: no JDK >= 25 found (set JAVA_HOME or install one under /usr/lib/jvm)" >&2
    return 1
  fi
  JAVA_HOME="$best"
  export JAVA_HOME
}
