#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and trains the default network and decoder
# on the offline real-photo optic-flow dataset (task=photoflow). Results go to
# $FLYVIS_ROOT_DIR/results/flow/<ensemble>/<model> (default root: ./data).
# Extra arguments are Hydra overrides, e.g. `bash scripts/train.sh task.n_iters=50`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/flyvis train-single task=photoflow scheduler=photoflow task_name=flow \
    ensemble_and_network_id=0000/000 "$@"
