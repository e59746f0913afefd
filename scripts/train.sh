#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and trains a network and decoder on the
# offline real-photo optic-flow dataset with the CPU recipe that learns within
# minutes (+experiment=cpu_flow: extent 4, batch 32; docs/training.md). Results
# go to $FLYVIS_ROOT_DIR/results/flow/<ensemble>/<model> (default root: ./data).
# Extra arguments are Hydra overrides, e.g. `bash scripts/train.sh task.n_iters=50`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/flyvis train-single +experiment=cpu_flow task_name=flow \
    ensemble_and_network_id=0000/000 "$@"
