# Sourced by ./jtune, ./mvnw and .ci/run (POSIX sh): sets JAVA_HOME to a JDK whose version is 25 or newer.
# Order: $JAVA_HOME if it qualifies, then the usual install places (/usr/lib/jvm, /opt, macOS's and SDKMAN's),
# then the javac on PATH. Without one: a single line on stderr saying what to set, and exit 1.
jdk_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1; }
jdk_ok() { [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] && [ "$(jdk_major "$1")" -ge 25 ] 2>/dev/null; }
if [ -z "${JAVA_HOME:-}" ] || ! jdk_ok "$JAVA_HOME"; then
  JAVA_HOME=""
  for cand in /usr/lib/jvm/*25* /usr/lib/jvm/* /opt/java/* /opt/jdk* /Library/Java/JavaVirtualMachines/*/Contents/Home \
              "${HOME:-/nonexistent}"/.sdkman/candidates/java/*; do
    if [ -d "$cand" ] && jdk_ok "$cand"; then JAVA_HOME="$cand"; break; fi
  done
  if [ -z "$JAVA_HOME" ] && command -v javac >/dev/null; then
    cand="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
    jdk_ok "$cand" && JAVA_HOME="$cand"
  fi
fi
if [ -z "$JAVA_HOME" ]; then
  onpath="$( (java -version 2>&1 || echo none) | head -1)"
  echo "jtune: needs a JDK 25 or newer and found none (java on PATH: $onpath); set JAVA_HOME to a JDK 25+ or install one under /usr/lib/jvm" >&2
  exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
