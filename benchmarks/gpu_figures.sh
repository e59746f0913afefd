#!/usr/bin/env bash
# GPU checks and figures in one go, for a machine with an NVIDIA GPU whose
# python3 has a CUDA build of torch (and numpy, scipy, pandas, h5py, xarray,
# tqdm, PyYAML) but not this package's other dependencies:
#
#   1. benchmarks/cuda_parity.py: the GPU path against the CPU path;
#   2. benchmarks/bench_engine.py --device cuda: every case, ours and the
#      reference engine, with peak GPU memory.
#
# Missing pure-Python wheels (datamate, ruamel.yaml) are installed from .whl/
# if that folder exists; make it on a machine with internet access:
#
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux2014_x86_64 -d .whl \
#     datamate==1.0.0 ruamel.yaml==0.19.1
#
# Output goes to $OUT (default: ./gpu-figures): device.txt, parity.txt,
# bench.txt, bench.json. DEVICE (default cuda) and CASES (default: all) choose
# the torch device and bench_engine's cases (DEVICE=cpu tries the script out).
# Usage, from the repository root: bash benchmarks/gpu_figures.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-figures}
mkdir -p "$OUT"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/flyvis-site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/flyvis-site:$PWD${PYTHONPATH:+:$PYTHONPATH}
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
FLYVIS_ROOT_DIR=$(mktemp -d)
export FLYVIS_ROOT_DIR PYTHONUNBUFFERED=1
nvidia-smi -L 2>&1 | tee "$OUT/device.txt"
python3 -c 'import torch, flyvis; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "flyvis", flyvis.__version__)' \
  2>&1 | tee -a "$OUT/device.txt"
DEVICE=${DEVICE:-cuda}
python3 benchmarks/cuda_parity.py --device "$DEVICE" 2>&1 | tee "$OUT/parity.txt"
parity=${PIPESTATUS[0]}
# shellcheck disable=SC2086  # CASES is a list of case names
python3 benchmarks/bench_engine.py --device "$DEVICE" --reps 5 --pause 0 \
  ${CASES:+--cases $CASES} --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.txt"
bench=${PIPESTATUS[0]}
echo "cuda_parity exit $parity, bench_engine exit $bench"
exit $((parity || bench))
