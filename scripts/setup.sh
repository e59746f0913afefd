#!/usr/bin/env bash
# Sets up .venv for flyvis: Python 3.11/3.12, the CPU build of torch first, then
# flyvis itself (editable) with the test tools. Safe to run repeatedly.
#
# Environment:
#   PYTHON           interpreter to create the venv with (default: python3)
#   TORCH_INDEX_URL  extra index for torch (e.g. https://download.pytorch.org/whl/cpu
#                    on machines whose default index would serve a CUDA build)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13)))'; then
  echo "flyvis needs Python 3.11 or 3.12 (datamate supports < 3.13); $PYTHON is $("$PYTHON" --version 2>&1)." >&2
  echo "Set PYTHON=/path/to/python3.11 and run again." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
VPY=.venv/bin/python
"$VPY" -m pip install --quiet --upgrade pip 2>&1 | grep -v "is ignored" || true

# torch first, pinned to the CPU wheel, so that no dependency pulls a CUDA build.
if ! "$VPY" -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "$VPY" -m pip install --quiet "torch==2.13.0" --extra-index-url "$TORCH_INDEX_URL"
  else
    "$VPY" -m pip install --quiet "torch==2.13.0" 2>&1 | grep -v "is ignored" || true
  fi
fi

"$VPY" -m pip install --quiet -e ".[dev]" 2>&1 | grep -v "is ignored" || true
"$VPY" -c 'import torch, flyvis; print(f"flyvis {flyvis.__version__} with torch {torch.__version__} ready in .venv")'
