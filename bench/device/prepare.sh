#!/usr/bin/env bash
# Contract: run HERE (a machine with the JDK, Maven Central and nvcc; no GPU needed) before calling the lent
# GPU machine, which has no Java, no Maven and no network. Builds jtune with the CUDA kernels (PTX required),
# then fills .device/ (git-ignored through .git/info/exclude; name it in the device tool's `carry`) with
# what bench/device/run.sh needs there: a jlink'ed Java runtime (jre.tar.xz, ~23 MB; xz takes minutes),
# the jars of the CLI, the bench and the CUDA tests with their dependencies (lib/), the JUnit console
# launcher, and the stories260K model (shared/models/stories260K). Prints the size that will travel
# (the tool's limit is 64 MiB, tree included).
# Usage: bench/device/prepare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
: "${JAVA_HOME:=/usr/lib/jvm/temurin-25-jdk-amd64}"
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> "$(git rev-parse --git-path info/exclude)"
dst="$root/.device"
rm -rf "$dst"; mkdir -p "$dst/lib" "$dst/shared/models"
# Tests are compiled, not run (they ran in CI); -Djtune.requirePtx=true: no PTX, no device run.
./mvnw -B -q -DskipTests -Djtune.requirePtx=true package -pl tensor-cuda,cli,bench -am
# cli's test classpath (JUnit, jtune-tensor's test-jar, Jackson, ...) and tensor-cuda's (the launcher API).
./mvnw -B -q dependency:copy-dependencies -pl cli,tensor-cuda -DincludeScope=test -DexcludeGroupIds=org.jtune \
  -DoutputDirectory="$dst/lib"
./mvnw -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4 -DoutputDirectory="$dst"
for m in tensor autograd quant models train eval serve cli library bench tensor-cuda; do
  [ -d "$m/target" ] || continue
  cp "$m"/target/*.jar "$dst/lib/" 2>/dev/null || true
done
# Test classes of the CUDA module and of the CLI (CudaGoldenTest, CliRun), as jars.
(cd tensor-cuda/target/test-classes && jar cf "$dst/lib/jtune-tensor-cuda-tests.jar" .)
(cd cli/target/test-classes && jar cf "$dst/lib/jtune-cli-tests.jar" .)
rm -f "$dst"/lib/*-sources.jar "$dst"/lib/*-javadoc.jar
# Trim to the 64 MiB the tool carries: the JDBC drivers (loaded by name, unused by the tests and the bench) and
# every JCuda native but the driver binding (the PTX compiler alone is 24 MB).
rm -f "$dst"/lib/sqlite-jdbc-*.jar "$dst"/lib/postgresql-*.jar
# JUnit comes once, inside the console launcher (two copies of an engine on one class path is an error).
rm -f "$dst"/lib/junit-*.jar "$dst"/lib/opentest4j-*.jar "$dst"/lib/apiguardian-*.jar
natives="$(ls "$dst"/lib/jcuda-natives-*.jar)"; tmp="$(mktemp -d)"
(cd "$tmp" && unzip -q "$natives" 'lib/libJCudaDriver-*' 'META-INF/MANIFEST.MF' && rm "$natives" && jar cfm "$natives" META-INF/MANIFEST.MF lib)
rm -rf "$tmp"
# The PTX in the jar, for both architectures (run.sh also rebuilds it there with that machine's nvcc).
unzip -l "$dst"/lib/jtune-tensor-cuda-*[0-9T].jar | grep -c '\.ptx$' | xargs -I{} echo "PTX files in the jar: {}"
cp -r ../shared/models/stories260K "$dst/shared/models/"
jlink --add-modules java.base,java.desktop,java.instrument,java.logging,java.management,java.naming,java.net.http,java.sql,java.xml,jdk.httpserver,jdk.incubator.vector,jdk.unsupported,jdk.crypto.ec,jdk.zipfs \
  --strip-debug --no-man-pages --no-header-files --compress=zip-0 --output "$dst/jre"
tar cJf "$dst/jre.tar.xz" -C "$dst" jre && rm -rf "$dst/jre"
echo "travels: $(du -sh "$dst" | cut -f1) in .device/ + $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | awk '{printf "%.1f MiB", $1/1048576}') of tracked files"
