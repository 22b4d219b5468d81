#!/usr/bin/env bash
# Contract: checks the tensor-core attention kernels (src/main/cuda/flash.cu) on the CPU, without a GPU: builds
# flash_check.cc with g++ (C++20; each CUDA thread a fiber, all on one OS thread; common.cuh here stands in for the
# CUDA one) and runs it: about 5 minutes for every case (head dims 64 and 128), seconds with `quick`. What it cannot
# check is the tensor cores' fragment layout itself (it multiplies by the layout the PTX ISA documents);
# bench/device/run.sh's conformance run on a GPU does.
# Usage: tensor-cuda/src/test/emulation/run.sh [quick]   (quick: one GQA ratio and one length)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; cuda="$here/../../main/cuda"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
cp "$here/common.cuh" "$here/flash_check.cc" "$cuda/flash.cu" "$cuda/attention_mask.cuh" "$tmp/"
g++ -std=c++20 -O2 -DFA_EMULATION -Wall -Wno-unused-function -Wno-unknown-pragmas -Wno-attributes -o "$tmp/flash_check" "$tmp/flash_check.cc"
"$tmp/flash_check" "$@"
