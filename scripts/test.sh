#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh) and runs the whole test suite, the slow
# tests included (a real single-node Slurm cluster when run as root on Debian).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -x`.
# The fast default suite alone: `.venv/bin/python -m pytest -q`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest -q -m "slow or not slow" "$@"
