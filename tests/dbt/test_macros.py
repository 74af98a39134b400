"""The dbt package's shape: one public macro or generic test per file, each a one-line `adapter.dispatch` to a
`default__` implementation in the same file; dbt_project.yml names only folders that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "dbt_project.yml").read_text())
MACRO_FILES = sorted(p for d in PROJECT["macro-paths"] for p in (ROOT / d).rglob("*.sql"))
DEFINITION = re.compile(r"\{%-?\s*(macro|test)\s+(\w+)\s*\(")


def test_dbt_project_names_only_folders_that_exist():
    for key, value in PROJECT.items():
        if key.endswith("-paths"):
            assert all((ROOT / p).is_dir() for p in value), (key, value)
    assert PROJECT["model-paths"] == ["python_models"] and MACRO_FILES


@pytest.mark.parametrize("path", MACRO_FILES, ids=lambda p: p.name)
def test_each_file_has_one_public_macro_that_dispatches_to_its_default(path):
    text = path.read_text()
    defined = DEFINITION.findall(text)
    public = [(kind, name) for kind, name in defined if "__" not in name]
    assert len(public) == 1, f"{path.name}: one public macro/test per file, found {public}"
    kind, name = public[0]
    dispatched = f"test_{name}" if kind == "test" else name
    assert f"adapter.dispatch('{dispatched}', 'dbt_dpsynth')" in text, path.name
    assert ("macro", f"default__{dispatched}") in defined, f"{path.name}: no default__{dispatched}"
    assert path.stem in (name, f"test_{name}"), f"{path.name} should be named after {name}"
