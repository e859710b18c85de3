#!/bin/bash
# The model's GPU figures in one go (what issue 6 asks a team with a GPU to know): the training step eager and
# compiled, then the loader from a synthetic volume cache. Runs from a plain checkout with the machine's own torch:
#   bash bench/gpu_check.sh [OUT_DIR]        # JSON per measurement in OUT_DIR (default: ./gpu-check)
set -u
out=${1:-gpu-check}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.txt" 2>&1
run() { name=$1; shift; timeout 300 python3 bench/model_throughput.py "$@" > "$out/$name.json" 2>> "$out/errors.log"; }
run step_eager64 --only step --batch 64 --steps 15 --no-compile
run step_eager128 --only step --batch 128 --steps 10 --no-compile
run step_compiled64 --only step --batch 64 --steps 20
run loader14 --only loader --batch 64 --workers 14 --loader-volumes 256
run loader1 --only loader --batch 64 --workers 1 --loader-volumes 64
cat "$out"/*.json
