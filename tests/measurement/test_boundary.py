"""The raw-row boundary is sealed: only dpsynth_core/measurement/ calls an engine's raw-row methods (issue #9)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAW_CALL = re.compile(r"\.(count_cells|count_values|fetch_rows|partition_rows|bound_rows_per_unit)\(")
PACKAGES = ("dpsynth_core", "dbt_dpsynth", "dpsynth_cli", "python_models", "bench")


def raw_calls(paths) -> list[str]:
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if RAW_CALL.search(line) and not line.lstrip().startswith(("def ", "#")):
                found.append(f"{path.relative_to(ROOT).as_posix()}:{number}: {line.strip()}")
    return found


def test_no_raw_row_call_outside_the_measurement_layer():
    paths = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
             if not p.relative_to(ROOT).as_posix().startswith("dpsynth_core/measurement/")]
    assert len(paths) > 20
    offenders = raw_calls(paths)
    assert not offenders, "raw-row engine calls outside dpsynth_core/measurement/:\n" + "\n".join(offenders)


def test_the_measurement_layer_is_where_the_calls_are():
    """Positive control: the same scan finds the measurement layer's own calls (all five methods)."""
    found = raw_calls(sorted((ROOT / "dpsynth_core" / "measurement").rglob("*.py")))
    assert {m for line in found for m in RAW_CALL.findall(line)} == {"count_cells", "count_values", "fetch_rows",
                                                                     "partition_rows", "bound_rows_per_unit"}


def test_the_scan_catches_a_bounding_call():
    """The bounding transformation is a raw-row method: a call to it is what the scan reports."""
    assert RAW_CALL.findall("bounded = engine.bound_rows_per_unit('patient_id', 2, salt)") == ["bound_rows_per_unit"]
