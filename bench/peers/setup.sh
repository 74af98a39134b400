#!/usr/bin/env bash
# Create bench/.venv-peers with the peer synthesizers (OpenDP SmartNoise Synth 1.0.8) in a venv of their own:
# smartnoise-synth pins opacus<0.15 and mbi<2, which cannot live beside the project's opacus>=1.5.
# torch==2.13.0 goes in first (CPU wheel; smartnoise's old opacus accepts it), then smartnoise-synth, then
# `packaging` (SmartNoise's dpctgan imports it without declaring it). Idempotent: re-running is a no-op once the
# stamp file exists.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${PEERS_VENV:-$HERE/.venv-peers}"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.installed-smartnoise-synth-1.0.8"
if [ -f "$STAMP" ]; then
  echo "peers venv ready: $VENV"
  exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "torch==2.13.0"
"$VENV/bin/pip" install -q "smartnoise-synth==1.0.8" packaging
"$VENV/bin/python" -c "import snsynth; from snsynth import Synthesizer; print('snsynth', snsynth.__name__, 'ok')"
touch "$STAMP"
echo "peers venv ready: $VENV"
