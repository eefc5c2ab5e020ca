"""The dependency direction of DESIGN.md, read from the code: the contracts live in
pyproject.toml (``[tool.importlinter]``) and ``lint-imports`` names every breaking import."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def test_no_layer_imports_a_higher_one_and_no_production_code_imports_tests(capsys):
    assert PYPROJECT.exists()
    code = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    assert code == 0, capsys.readouterr().out
