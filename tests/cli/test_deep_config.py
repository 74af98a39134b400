"""`dpsynth validate-config` / `recommend-config`: JSON out, no data read; without the [deep] extra a named error."""

import json
import sys

from dpsynth_cli import main


def test_cli_validate_and_recommend_print_json(capsys):
    assert main(["validate-config", "--epsilon", "1", "--rows", "1000", "--set", "batch_size=300"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert not out["ok"] and out["recommended"]["config"]["batch_size"] <= 100
    assert main(["validate-config", "--epsilon", "1", "--rows", "26217"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"]
    assert main(["recommend-config", "--goal", "high_privacy", "--generator", "dp-tvae", "--epsilon", "1",
                 "--rows", "5000"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["goal"] == "high_privacy" and out["validation"]["ok"]


def test_without_the_deep_extra_the_commands_name_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "opacus", None)   # as if opacus were not installed
    assert main(["validate-config", "--epsilon", "1", "--rows", "1000"]) == 2
    err = capsys.readouterr().err
    assert "opacus" in err and "[deep]" in err and "Fix:" in err
