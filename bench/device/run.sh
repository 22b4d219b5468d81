#!/usr/bin/env bash
# Contract: the one command for a lent NVIDIA GPU machine (the device tool's `run`, ≤ 10 minutes), over a
# copy of this repository with .device/ carried (made here first by bench/device/prepare.sh: that machine
# has no Java, Maven or network). In order, each step bounded by `timeout` so the JSON is always written:
#   1. the GPU, driver and toolkit (nvidia-smi, nvcc); the Java runtime unpacked; cuBLAS located;
#   2. build: the CUDA sources compiled again there by its nvcc for sm_90 and assembled by ptxas -v
#      (registers, spills: ptxas-sm90.txt), so the kernels are known to build with that toolkit too;
#   3. the op-conformance suite against cuda:0 (jtune-tensor's *ConformanceTest on the GPU), op outputs poisoned (0xFF) rather than left as they were;
#   4. the stories260K golden checks and a LoRA run on cuda:0 (CudaGoldenTest);
#   5. CudaDeviceBench: GEMM against cuBLAS, a TinyLlama-1.1B-shaped LoRA step (MFU), batch-1 decode
#      (fraction of HBM bandwidth).
# Writes $OUT/device-result.json (a summary of every step and the benchmark), $OUT/run.log, the JUnit
# reports and ptxas-sm90.txt. Usage (device tool): carry [".device"], command "bash bench/device/run.sh";
# BENCH_ONLY=1 skips steps 2–4 (a second timing run once the checks have passed on the same build).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-$PWD/device-out}"; mkdir -p "$OUT"
exec > >(tee "$OUT/run.log") 2>&1
dev="$PWD/.device"
[ -d "$dev/lib" ] || { echo "no .device/: run bench/device/prepare.sh here and carry .device"; exit 2; }
step() { echo; echo "=== $* ($(date -u +%T))"; }
declare -A status

step "1. machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv || true
nvcc --version | tail -2 || true
rm -rf /tmp/jre && tar xJf "$dev/jre.tar.xz" -C /tmp 2>/dev/null \
  || python3 -c "import tarfile; tarfile.open('$dev/jre.tar.xz').extractall('/tmp')"
JAVA=/tmp/jre/bin/java; "$JAVA" -version 2>&1 | head -1
cublas="${JTUNE_CUBLAS:-$(ls /usr/local/cuda/lib64/libcublas.so.1[0-9] /usr/local/cuda-*/lib64/libcublas.so.1[0-9] \
  /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu1[0-9]/lib/libcublas.so.1[0-9] \
  /opt/torch/.venv/lib/python3*/site-packages/nvidia/cublas/lib/libcublas.so.1[0-9] 2>/dev/null | head -1)}"
[ -z "$cublas" ] && cublas="$(find / -xdev -name 'libcublas.so.1[0-9]' 2>/dev/null | head -1)"
echo "cuBLAS: ${cublas:-not found}"
export JTUNE_CUBLAS="$cublas" LD_LIBRARY_PATH="$(dirname "${cublas:-/x}"):${LD_LIBRARY_PATH:-}"
# JCuda's driver binding needs libcuda.so.1 on the loader path (the driver's folder is mounted, maybe not in ldconfig).
ldconfig -p 2>/dev/null | grep -q 'libcuda.so.1 ' || export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:/usr/local/nvidia/lib64:/usr/local/nvidia/lib"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss4m -XX:+UseParallelGC
       -Djtune.shared="$dev/shared")
cp="$dev/junit-platform-console-standalone-1.11.4.jar:$dev/lib/*"

if [ -n "${BENCH_ONLY:-}" ]; then status[build]=skipped; status[conformance]=skipped; status[golden]=skipped; else
step "2. build the kernels with this machine's nvcc"
ARCHS=90 timeout 60 bash tensor-cuda/src/build/compile-ptx.sh tensor-cuda/src/main/cuda /tmp/ptx && status[build]=ok || status[build]=failed
for f in /tmp/ptx/*.ptx; do ptxas -arch=sm_90 -v "$f" -o /dev/null 2>&1; done > "$OUT/ptxas-sm90.txt" || true
grep -E "[1-9][0-9]* bytes spill" "$OUT/ptxas-sm90.txt" && echo "(kernels above spill registers)" || echo "no kernel spills registers"
launcher() { # the JUnit console launcher; keeps only Jupiter's report (the tool brings back at most 8 files)
  local dir="$1"; shift
  timeout "$@" --details=tree --disable-banner --disable-ansi-colors --reports-dir "$OUT/$dir"; local rc=$?
  rm -f "$OUT/$dir/TEST-junit-vintage.xml" "$OUT/$dir/TEST-junit-platform-suite.xml"; return $rc
}

step "3. conformance suite on cuda:0"
launcher conformance 120 "$JAVA" "${flags[@]}" -Djtune.test.backends=cuda:0 -Djtune.cuda.poisonOutputs=true -cp "$cp" org.junit.platform.console.ConsoleLauncher execute \
  --select-package org.jtune.tensor --include-classname '.*ConformanceTest' --config junit.jupiter.extensions.autodetection.enabled=true \
  && status[conformance]=passed || status[conformance]="failed ($?)"

step "4. stories260K golden checks on cuda:0"
launcher golden 60 "$JAVA" "${flags[@]}" -cp "$cp" org.junit.platform.console.ConsoleLauncher execute \
  --select-class org.jtune.cli.CudaGoldenTest && status[golden]=passed || status[golden]="failed ($?)"

fi

step "5. benchmark"
timeout 180 "$JAVA" "${flags[@]}" -Xmx64g -cp "$dev/lib/*" org.jtune.bench.CudaDeviceBench "$OUT/bench.json" "${SEQ:-2048}" "${DECODE_TOKENS:-64}" \
  && status[bench]=ok || status[bench]="failed ($?)"

step "summary"
python3 - "$OUT" "${status[build]}" "${status[conformance]}" "${status[golden]}" "${status[bench]}" <<'PY'
import json, os, sys, glob, xml.etree.ElementTree as ET
out, build, conf, golden, bench = sys.argv[1:6]
def junit(d):
    t = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "failed_cases": []}
    for f in glob.glob(os.path.join(out, d, "*.xml")):
        for s in ET.parse(f).getroot().iter("testsuite"):
            for k in ("tests", "failures", "errors", "skipped"): t[k] += int(s.get(k, 0))
            for c in s.iter("testcase"):
                if c.find("failure") is not None or c.find("error") is not None:
                    t["failed_cases"].append(c.get("classname", "") + "." + c.get("name", ""))
    t["all_ran_on_the_gpu"] = t["tests"] > 0 and t["skipped"] == 0
    return t
r = {"build": build, "conformance": dict(status=conf, **junit("conformance")), "golden": dict(status=golden, **junit("golden")),
     "bench_status": bench}
try: r["bench"] = json.load(open(os.path.join(out, "bench.json")))
except Exception as e: r["bench"] = {"missing": str(e)}
json.dump(r, open(os.path.join(out, "device-result.json"), "w"), indent=2)
print(json.dumps(r, indent=2))
PY
