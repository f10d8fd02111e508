#!/usr/bin/env bash
# Build a separate venv with the whisperx (GPU tier) requirements and run the whisperx engine tests.
#
#   scripts/test_whisperx.sh                 # requirements-whisperx.txt as pinned (torch 2.8 + CUDA wheels, ~5 GB)
#   scripts/test_whisperx.sh --local-torch   # CPU-only box: reuse the CPU torch 2.13.0 wheel instead (see below)
#
# Extra arguments go to pytest. WHISPERX_VENV (default .venv-whisperx) and PYTHON (default python3.11) can be
# overridden. The tests run on CPU as well as on a GPU.
#
# --local-torch exists because whisperx's torch 2.8 pin means a multi-GB CUDA download. It installs whisperx
# with --no-deps on top of torch 2.13.0 (CPU), the other pins of requirements-whisperx.txt, and torchaudio
# 2.11.0 (the last release) with its compiled extension disabled: that extension does not load against
# torch 2.13, and whisperx only uses torchaudio's pure-Python pipeline registry. torchcodec is removed
# (its wheel is CUDA-linked; everything here passes audio in memory). Good for checking the code path, not
# for production.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV=${WHISPERX_VENV:-.venv-whisperx}
PYTHON=${PYTHON:-python3.11}
LOCAL_TORCH=0
if [[ "${1:-}" == "--local-torch" ]]; then
    LOCAL_TORCH=1
    shift
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
TEST_DEPS=(pytest==9.2.0 pytest-timeout==2.4.0)

if [[ $LOCAL_TORCH == 0 ]]; then
    "${PIP[@]}" -r requirements-whisperx.txt "${TEST_DEPS[@]}"
else
    "${PIP[@]}" torch==2.13.0
    "${PIP[@]}" --no-deps whisperx==3.8.6
    filtered=$(mktemp)
    trap 'rm -f "$filtered"' EXIT
    grep -v -E '^(whisperx|torch|torchaudio|torchvision|torchcodec|triton)==' requirements-whisperx.txt \
        | sed "s#^-r requirements.txt#-r $ROOT/requirements.txt#" >"$filtered"
    "${PIP[@]}" -r "$filtered" torch==2.13.0 torchaudio==2.11.0 "${TEST_DEPS[@]}"
    "$VENV/bin/python" -m pip uninstall --quiet --yes torchcodec || true
    site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    if compgen -G "$site/torchaudio/lib/*.so" >/dev/null; then
        mkdir -p "$site/torchaudio/lib/disabled"
        mv "$site"/torchaudio/lib/*.so "$site/torchaudio/lib/disabled/"
    fi
fi

# -p no:django --confcutdir: these tests need neither Django nor the project's Django fixtures.
exec "$VENV/bin/python" -m pytest tests/transcription/test_engine_whisperx.py -m whisperx \
    -p no:django --confcutdir tests/transcription -q "$@"
