#!/usr/bin/env bash
# One prepared GPU session: CUDA tests, then every GPU figure of BENCHMARKS.md, in one call.
# Run from the repository root on a CUDA machine with torch installed:
#   bash benchmarks/gpu_session.sh [OUTDIR]
set -uo pipefail
out=${1:-gpu-results}
mkdir -p "$out"
export PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
{
  date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  $py -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
} 2>&1 | tee "$out/env.txt"
# each part time-boxed (535 s in all at most), under the device tool's 10 minutes a call
timeout 110 $py -m pytest -q -p no:cacheprovider -m cuda tests/tasks/test_tasks_stream.py \
  tests/models/test_backends.py tests/models/test_fused.py 2>&1 | tail -5 | tee "$out/cuda_tests.txt"
# the fused kernel (issues 3 and 7) against banded/batched/dense/cuDNN, then its tile sweep
timeout 180 $py benchmarks/fused.py --reps 3 2>&1 | tee "$out/fused.txt"
timeout 75 $py benchmarks/fused.py --reps 3 --sweep 2>&1 | tee "$out/fused_sweep.txt"
timeout 35 $py benchmarks/tasks.py --device cuda --no-neurogym --seconds 2 2>&1 \
  | tee "$out/tasks.txt"
for seeds in 1 15; do
  timeout 45 $py benchmarks/train.py --preset paper-lm --device cuda --seeds $seeds --steps 10 2>&1
done | tee "$out/train.txt"
timeout 45 $py -m lmrnn.cli train out="$out/run" collection=modcog82 n=20 d=2 steps=40 eval_every=20 \
  eval_trials=16 seeds=[0,1,2] device=cuda --no-progress 2>&1 | tail -3 | tee "$out/run.txt"
