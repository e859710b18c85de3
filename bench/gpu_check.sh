#!/bin/bash
# The model's GPU figures in one go (what issue 6 asks a team with a GPU to know), most telling first: the loader
# alone from a synthetic volume cache (int16 HU batches as training ships them with workers, then float32 batches),
# training end to end (the step fed by the loader, eager then compiled), then the compiled step alone. Runs from a
# plain checkout with the machine's own torch:
#   bash bench/gpu_check.sh [OUT_DIR [NAME ...]]   # JSON per measurement in OUT_DIR (default ./gpu-check); NAMEs: a subset
set -u
out=${1:-gpu-check}
shift || true
mkdir -p "$out"
export PYTHONUNBUFFERED=1
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; nproc; free -g; df -h /dev/shm /tmp; } \
  > "$out/machine.txt" 2>&1
cat "$out/machine.txt"
L="--only loader --batch 32 --loader-volumes 128"
T="--only training --batch 32 --loader-volumes 128 --workers 14"
declare -A runs=(
  [loader14]="120 $L --workers 14 --loader-batches 100"
  [loader14_float]="120 $L --workers 14 --loader-batches 100 --float-batches"
  [loader8]="90 $L --workers 8 --loader-batches 60"
  [loader1]="90 $L --workers 1 --loader-batches 8"
  [training14_eager]="150 $T --loader-batches 100 --no-compile"
  [training14_compiled]="240 $T --loader-batches 120"
  [step_compiled32]="150 --only step --batch 32 --steps 20"
)
order=(loader14 loader14_float loader8 loader1 training14_eager training14_compiled step_compiled32)
[ $# -gt 0 ] && order=("$@")
for name in "${order[@]}"; do
  read -r limit args <<< "${runs[$name]}"
  t=$(date +%s)
  # shellcheck disable=SC2086
  timeout "$limit" python3 bench/model_throughput.py $args > "$out/$name.json" 2>> "$out/errors.log"
  echo "== $name: rc $? in $(( $(date +%s) - t )) s"
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print({k: {m: round(v, 3) for m, v in d[k].items() if 'per_s' in m or m in ('step_s', 'mfu', 'warmup_s')} for k in ('step', 'loader', 'training') if d.get(k)})" "$out/$name.json" 2>/dev/null
done
tail -n 20 "$out/errors.log" 2>/dev/null
