"""The bad-input matrix through `dpsynth synthesize` (in process: a raw exception would fail the test).

Each case ends in exit 0 with an output and its release record, or exit 2 with a typed one-line error naming the
table, the fix and (where there is one) the column; nothing is written then. No canary value reaches stdout, stderr,
the output or the record, and no traceback is printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from badinput_cases import CANARIES, CASES, Case, _plain

from dpsynth_cli import main

FAST = ["--option", "iters=20"]


def run_cli(capsys, source: Path, out: Path, extra: list[str]) -> tuple[int, str, str]:
    args = ["synthesize", str(source), "--out", str(out), "--epsilon", "1", *FAST, *extra]
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean(text: str) -> None:
    assert "Traceback" not in text, text
    for canary in CANARIES:
        assert canary not in text, text


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.slow else [])
                                  for c in CASES])
def test_bad_input_ends_in_a_typed_error_or_a_valid_output(case: Case, tmp_path, capsys):
    source, extra = case.make(tmp_path)
    out = tmp_path / "out" / "synthetic.csv"
    code, stdout, stderr = run_cli(capsys, source, out, extra)
    assert_clean(stdout + stderr)
    for part in case.says:
        assert part in stdout + stderr, (case.name, stdout + stderr)
    if case.outcome == "ok":
        assert code == 0, stderr
        assert out.exists() and json.loads(Path(str(out) + ".release.json").read_text())["rows"] >= 1
        if case.output_check is not None:
            case.output_check(out)
    else:
        assert code == 2, (code, stderr)
        message = stderr.strip().splitlines()
        assert len(message) == 1 and message[0].startswith("dpsynth: error: [table "), stderr
        assert "Fix:" in message[0], message
        assert not out.exists() and not Path(str(out) + ".release.json").exists()


def test_out_equal_to_the_input_is_refused_and_the_input_survives(tmp_path, capsys):
    source = _plain(tmp_path)
    before = source.read_bytes()
    code, _, stderr = run_cli(capsys, source, source, [])
    assert code == 2 and "would overwrite the input" in stderr
    assert source.read_bytes() == before
    # the same file under another spelling
    code, _, stderr = run_cli(capsys, source, tmp_path / "." / source.name, [])
    assert code == 2 and source.read_bytes() == before


def test_an_unwritable_output_path_is_refused_before_reading(tmp_path, capsys, monkeypatch):
    source = _plain(tmp_path)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the output folder should be")
    import dpsynth_cli._input as reader

    def no_read(*args, **kwargs):
        raise AssertionError("the input was opened before the output path was checked")

    monkeypatch.setattr(reader, "open_csv", no_read)
    code, _, stderr = run_cli(capsys, source, blocker / "out.csv", [])
    assert code == 2 and "cannot be written" in stderr and "Fix:" in stderr


def test_an_unexpected_exception_prints_its_type_only(tmp_path, capsys, monkeypatch):
    """The last line of defence: an error that is not ours shows its type, never its message (it can quote data)."""
    source = _plain(tmp_path)
    import dpsynth_core.api as api

    def boom(*args, **kwargs):
        raise RuntimeError(f"value {CANARIES[0]} broke something")

    monkeypatch.setattr(api, "synthesize_table", boom)
    code, stdout, stderr = run_cli(capsys, source, tmp_path / "o.csv", [])
    assert code == 1 and "RuntimeError" in stderr and "message withheld" in stderr
    assert_clean(stdout + stderr)
