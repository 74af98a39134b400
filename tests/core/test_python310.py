"""dpsynth_core and dbt_dpsynth run in a Snowflake stored procedure (Python 3.10): no 3.11+ syntax, and none of the
standard-library names that 3.11+ added."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for package in ("dpsynth_core", "dbt_dpsynth") for p in (ROOT / package).rglob("*.py"))
# module -> names added in 3.11+; None: the whole module is new
NEW_IN_311 = {"tomllib": None, "wsgiref.types": None,
              "typing": {"Self", "LiteralString", "Never", "assert_never", "assert_type", "reveal_type",
                         "Required", "NotRequired", "TypeVarTuple", "Unpack", "dataclass_transform", "override",
                         "TypeAliasType", "get_overloads", "clear_overloads"},
              "enum": {"StrEnum", "ReprEnum", "EnumCheck", "FlagBoundary", "verify", "member", "nonmember",
                       "global_enum", "property"},
              "datetime": {"UTC"}, "asyncio": {"TaskGroup", "Runner", "timeout"},
              "hashlib": {"file_digest"}, "operator": {"call"}, "contextlib": {"chdir"},
              "itertools": {"batched"}}
NEW_BUILTINS = {"ExceptionGroup", "BaseExceptionGroup"}


def new_names(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name in NEW_IN_311 and NEW_IN_311[a.name] is None]
        elif isinstance(node, ast.ImportFrom) and node.module in NEW_IN_311:
            new = NEW_IN_311[node.module]
            found += [f"{node.module}.{a.name}" for a in node.names if new is None or a.name in new]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            new = NEW_IN_311.get(node.value.id)
            if new and node.attr in new:
                found.append(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.Name) and node.id in NEW_BUILTINS:
            found.append(node.id)
    return found


def test_the_packages_have_sources():
    assert len(SOURCES) > 50 and any(p.name == "ledger.py" for p in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_parses_as_python_310_and_uses_no_newer_stdlib(path):
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path), feature_version=(3, 10))   # e.g. `except*` fails here
    assert new_names(tree) == [], f"{path.relative_to(ROOT)}: added after Python 3.10"


def test_the_checks_catch_what_310_lacks():
    with pytest.raises(SyntaxError):
        ast.parse("try:\n    pass\nexcept* ValueError:\n    pass\n", feature_version=(3, 10))
    newer = "import tomllib\nfrom typing import Self\nimport datetime\nx = datetime.UTC\nraise ExceptionGroup('', [])\n"
    assert new_names(ast.parse(newer)) == ["tomllib", "typing.Self", "datetime.UTC", "ExceptionGroup"]
