#!/usr/bin/env bash
# Contract: compiles every src/main/cuda/*.cu to PTX for each architecture in $ARCHS (default "80 90") with
# nvcc, into OUT/<name>.sm_<arch>.ptx, then assembles each PTX with ptxas for that architecture, so a
# kernel that does not compile or assemble fails the build even on a machine without a GPU. Without nvcc
# or ptxas it prints one line saying the PTX was not built (the CUDA backend then refuses to start, naming
# the missing resource) and exits 0, unless JTUNE_REQUIRE_PTX=true, when it fails.
# Usage: compile-ptx.sh SRC_DIR OUT_DIR
set -euo pipefail
src="$1"; out="$2"; archs="${ARCHS:-80 90}"
nvcc="$(command -v nvcc || true)"; ptxas="$(command -v ptxas || true)"
for d in /usr/local/cuda/bin /usr/local/cuda-13.0/bin /usr/lib/nvidia-cuda-toolkit/bin; do
  [ -z "$nvcc" ] && [ -x "$d/nvcc" ] && nvcc="$d/nvcc"
  [ -z "$ptxas" ] && [ -x "$d/ptxas" ] && ptxas="$d/ptxas"
done
if [ -z "$nvcc" ] || [ -z "$ptxas" ]; then
  msg="nvcc/ptxas not found: CUDA kernels not compiled to PTX (the cuda backend will refuse to start); install the CUDA toolkit to build them"
  if [ "${JTUNE_REQUIRE_PTX:-false}" = true ]; then echo "ERROR: $msg" >&2; exit 1; fi
  echo "[jtune-tensor-cuda] $msg"; exit 0
fi
mkdir -p "$out"
shopt -s nullglob
for cu in "$src"/*.cu; do
  name="$(basename "$cu" .cu)"
  for a in $archs; do
    ptx="$out/$name.sm_$a.ptx"
    # -lineinfo keeps source lines for profilers; -Werror all-warnings turns warnings into failures.
    "$nvcc" -ptx -arch="sm_$a" -std=c++17 -O3 -lineinfo -Werror all-warnings -I"$src" -o "$ptx" "$cu"
    "$ptxas" -arch="sm_$a" -O3 "$ptx" -o /dev/null
  done
done
echo "[jtune-tensor-cuda] PTX for sm_${archs// /, sm_} built and assembled by $("$ptxas" --version | tail -1 | sed 's/^Build //')"
