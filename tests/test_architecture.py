"""The layers contract (pyproject.toml [tool.importlinter]): imports only go downward, pipelines stay Django-free.

ops → rendering → transcription → uploads → accounts → ecg. The second test proves the contract has teeth:
the same configuration, run over a miniature tree where the foundation imports ``ops``, must fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def run_lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_project_keeps_its_layers():
    result = run_lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for package in config["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for pipeline in ("transcription", "rendering"):
        (tmp_path / pipeline / "pipeline").mkdir()
        (tmp_path / pipeline / "pipeline" / "__init__.py").write_text("")
    (tmp_path / "ecg" / "jobs.py").write_text("import ops\n")  # the foundation reaching up
    lines = ["[tool.importlinter]", f"root_packages = {config['root_packages']!r}", "include_external_packages = true"]
    for contract in config["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        lines += [f"{key} = {value!r}" for key, value in contract.items()]
    (tmp_path / "pyproject.toml").write_text("\n".join(lines).replace("'", '"') + "\n")

    result = run_lint_imports(tmp_path)

    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout and "ecg.jobs -> ops" in result.stdout
