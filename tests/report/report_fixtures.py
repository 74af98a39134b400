"""A real release in a real DuckDB ledger, built the way the dbt glue builds one: reserve (cap check), synthesize a
nassCDS sample with a holdout through the PandasEngine, record the release, evaluate it (NOT DP) and store the metrics
and the evaluation details beside the ledger. A failed attempt on the same key and a release without holdout on
another key make the audit narrative and the "not evaluated" path real too."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from dbt_dpsynth.evidence import write_details
from dbt_dpsynth.ledger import Ledger, LedgerLocation, ReleaseRequest, ensure_tables, record_caps
from dbt_dpsynth.metrics import write_metrics
from dbt_dpsynth.tables import LEDGER
from dpsynth_core.api import resolve_spec, synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.evaluation import EvaluationOptions, evaluate
from dpsynth_core.evaluation.columns import kinds_from_table_spec
from dpsynth_core.measurement import PandasEngine

CAP = 3.0
KEY = "nass"
SPEC = {"caseid": {"kind": "identifier"}, "sex": {"kind": "categorical", "categories": ["f", "m"]},
        "dead": {"kind": "categorical", "categories": ["alive", "dead"]},
        "ageOFocc": {"kind": "integer", "lower": 0, "upper": 100, "bins": 10}}
COLUMNS = ["dvcat", "weight", "dead", "airbag", "seatbelt", "sex", "ageOFocc", "yearVeh", "injSeverity", "caseid"]


@dataclass
class LedgerFixture:
    path: Path
    location: LedgerLocation
    release_id: str            # the evaluated release
    plain_release_id: str      # a release without holdout (other key)
    failed_release_id: str
    record: dict
    ledger_rows: list
    metric_rows: list
    details: dict


def _request(config: SynthesisConfig, model: str, key: str, relation: str = "nassCDS") -> ReleaseRequest:
    plan = config.budget_plan()
    return ReleaseRequest(relation, model, f"main.{model}", key, config.generator, config.epsilon,
                          config.resolved_delta(), plan.delta_conversion, plan.rho, plan.accountant, config.seed,
                          config.rows, "invocation-1")


def build_ledger(path: Path, nass: pd.DataFrame) -> LedgerFixture:
    frame = nass[COLUMNS].head(2500).reset_index(drop=True)
    con = duckdb.connect(str(path))
    location = LedgerLocation("main")
    ensure_tables(con, location)
    record_caps(con, location, "invocation-1", {KEY: CAP, "nass_plain": 2.0})
    book = Ledger(con, location)

    failed_cfg = SynthesisConfig(epsilon=0.5, generator="aim", seed=1)
    failed = book.reserve(_request(failed_cfg, "nass_aim_attempt", KEY), CAP)
    book.finish_failed(failed, "ConfigError: AIM target 'nope' is not a modelled column")

    config = SynthesisConfig(epsilon=1.0, generator="mst", holdout=0.2, seed=7, options={"iters": 60})
    reservation = book.reserve(_request(config, "nass_mst", KEY), CAP)
    engine = PandasEngine(frame, "nassCDS")
    release = synthesize_table(engine, SPEC, config)
    release_id = book.finish_released(reservation, release.record.to_dict())
    report = evaluate(release.evaluation.train, release.evaluation.holdout, release.data,
                      kinds=kinds_from_table_spec(resolve_spec(engine, SPEC)), target="dead",
                      options=EvaluationOptions(n_attacks=100, max_distance_rows=2000), table="nassCDS",
                      details=True)
    metric_rows = report.to_records(release_id, "nass_mst")
    write_metrics(con, location, metric_rows)
    write_details(con, location, release_id, "nass_mst", report.details)

    plain_cfg = SynthesisConfig(epsilon=0.5, generator="copula", seed=3, rows=300)
    plain = book.reserve(_request(plain_cfg, "nass_copula", "nass_plain"), 2.0)
    plain_release = synthesize_table(PandasEngine(frame.head(1200), "nassCDS"), SPEC, plain_cfg)
    plain_id = book.finish_released(plain, plain_release.record.to_dict())

    names = LEDGER.names
    rows = [dict(zip(names, r, strict=True)) for r in con.execute(
        f"SELECT {', '.join(names)} FROM {location.ledger} ORDER BY started_at").fetchall()]
    con.close()
    return LedgerFixture(path, location, release_id, plain_id, failed.release_id, release.record.to_dict(), rows,
                         metric_rows, json.loads(json.dumps(report.details)))
