#!/usr/bin/env bash
# Create the peers' venvs, each apart from the project's (their pins cannot live beside it):
#   smartnoise -> bench/.venv-peers: OpenDP SmartNoise Synth 1.0.8 (pins opacus<0.15 and mbi<2). torch==2.13.0 goes
#                 in first (CPU wheel; smartnoise's old opacus accepts it), then smartnoise-synth, then `packaging`
#                 (SmartNoise's dpctgan imports it without declaring it).
#   mbi        -> bench/.venv-mbi: the private-pgm authors' estimation library, PyPI package `mbi` 2.0.0 (JAX;
#                 Python >= 3.11). The MST/AIM mechanisms are not in the wheel: bench/peers/mbi_runner.py follows the
#                 scripts of the authors' repository.
# Usage: setup.sh [smartnoise] [mbi]   (default: both). Idempotent: a venv whose stamp file exists is left alone.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
WHICH=("$@")
[ ${#WHICH[@]} -eq 0 ] && WHICH=(smartnoise mbi)

setup_smartnoise() {
  local venv="${PEERS_VENV:-$HERE/.venv-peers}" stamp
  stamp="$venv/.installed-smartnoise-synth-1.0.8"
  [ -f "$stamp" ] && { echo "peers venv ready: $venv"; return; }
  "$PYTHON" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q "torch==2.13.0"
  "$venv/bin/pip" install -q "smartnoise-synth==1.0.8" packaging
  "$venv/bin/python" -c "from snsynth import Synthesizer; print('snsynth ok')"
  touch "$stamp"
  echo "peers venv ready: $venv"
}

setup_mbi() {
  local venv="${MBI_VENV:-$HERE/.venv-mbi}" stamp
  stamp="$venv/.installed-mbi-2.0.0"
  [ -f "$stamp" ] && { echo "mbi venv ready: $venv"; return; }
  "$PYTHON" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q "mbi==2.0.0"
  "$venv/bin/python" -W ignore -c "import importlib.metadata as m, mbi; print('mbi', m.version('mbi'), 'ok')"
  touch "$stamp"
  echo "mbi venv ready: $venv"
}

for w in "${WHICH[@]}"; do
  case "$w" in
    smartnoise) setup_smartnoise ;;
    mbi) setup_mbi ;;
    *) echo "unknown peer set '$w' (use smartnoise, mbi)" >&2; exit 2 ;;
  esac
done
