"""The CLI's progress on stderr: a bar rewritten in place on a terminal, one line per event elsewhere; the events of
AIM rounds, MST stages, DP-SGD epochs, evaluation stages and sampling all reach it."""

from __future__ import annotations

import io

import duckdb

from dbt_dpsynth.engines import engine_for
from dpsynth_cli.progress import ProgressLine, describe, fraction_done
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.evaluation import evaluate
from dpsynth_core.progress import reporting


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_line_rewritten_with_a_bar():
    out = Terminal()
    line = ProgressLine(out)
    line("aim", {"round": 3, "selected": "a|b", "spent_share": 0.5, "annealed": False})
    line("epoch", {"epoch": 1, "epochs": 4, "epsilon_spent": 0.3})
    line.close()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "[############............]  50% aim round 3: selected a|b" in text and " 25% epoch" in text
    assert fraction_done("mst", {"stage": "1way"}) is None and describe("mst", {"stage": "select", "selected": 2}) == (
        "mst: select (selected=2)")


def test_a_log_gets_one_line_per_event_from_every_stage(nass):
    out = io.StringIO()
    line = ProgressLine(out)
    con = duckdb.connect()
    con.register("df", nass.head(1500)[["sex", "dead", "airbag"]])
    engine = engine_for(con.sql("SELECT * FROM df"), con, relation_name="t")
    for generator in ("aim", "mst"):
        config = SynthesisConfig(epsilon=1.0, generator=generator, rows=200)
        release = synthesize_table(engine, None, config, progress=line)
    with reporting(line):
        real = nass.head(1500)[["sex", "dead", "airbag"]]
        evaluate(real.iloc[:1000], real.iloc[1000:], release.data)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and all(x.startswith("dpsynth: ") for x in lines)
    text = "\n".join(lines)
    for part in ("aim round 1: selected", "mst: 1way", "mst: select", "mst: 2way", "sample rows=200",
                 "evaluate: prepare", "evaluate: utility metrics", "evaluate: privacy metrics: distances",
                 "evaluate: done"):
        assert part in text, text
