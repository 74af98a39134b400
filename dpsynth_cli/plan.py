"""`dpsynth plan --spec spec.yml --rows N --epsilon E [--generator G] [--out DIR]`: the validation and
recommendation report of a planned release (expected noise per marginal and error at epsilon E), before spending.

Reads no data and spends nothing: the domain sizes come from the declared spec (every column's kind declared), the
row count from --rows (a public number, or an assumption marked with --rows-assumed).
"""

from __future__ import annotations

import re
from pathlib import Path

from dpsynth_core.errors import InputError, SpecError


def register(subparsers) -> None:
    p = subparsers.add_parser("plan", help="expected noise and error of a release before spending (HTML, JSON, MD)",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--spec", required=True, help="YAML `columns: {col: {kind: ..., categories: [...]}}`; every "
                                                 "column's kind must be declared")
    p.add_argument("--rows", required=True, type=int, help="the table's row count (public, or see --rows-assumed)")
    p.add_argument("--rows-assumed", action="store_true", help="--rows is an assumption, not a public number")
    p.add_argument("--epsilon", required=True, type=float, help="total epsilon of the planned release")
    p.add_argument("--delta", type=float, default=None, help="total delta (default as for a release)")
    p.add_argument("--generator", default="aim", help="generator (forecast for mst, aim, copula; checks for deep)")
    p.add_argument("--name", default=None, help="table name shown in the report (default: the spec file's stem)")
    p.add_argument("--target-tvd", type=float, default=0.05, help="the error you can accept (default 0.05)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="generator option (JSON value)")
    p.add_argument("--out", default="target/dpsynth", help="output directory (default target/dpsynth)")
    p.set_defaults(func=run)


def run(args) -> int:
    import yaml

    from dpsynth_core.config import SynthesisConfig
    from dpsynth_core.report import PlanRequest, plan_report, write_report
    from dpsynth_core.schema import TableSpec

    from .synthesize import _options

    path = Path(args.spec)
    if not path.is_file():
        raise InputError(f"spec file {args.spec!r} does not exist.", fix="pass the YAML file with `columns:`.")
    name = args.name or path.stem
    raw = yaml.safe_load(path.read_text()) or {}
    columns = raw.get("columns", raw) if isinstance(raw, dict) else None
    if not isinstance(columns, dict):
        raise SpecError(f"spec file {args.spec} is not a mapping of columns.", table=name,
                        fix="write `columns: {col: {kind: categorical, categories: [a, b]}}`.")
    spec = TableSpec.from_dict(name, columns)
    config = SynthesisConfig(epsilon=args.epsilon, delta=args.delta, generator=args.generator,
                             options=_options(args.option), table=name)
    report = plan_report(PlanRequest(spec, config, args.rows, not args.rows_assumed, args.target_tvd))
    stem = "plan-" + re.sub(r"[^A-Za-z0-9._-]+", "_", f"{name}-{args.generator}-eps{args.epsilon:g}")
    paths = write_report(report, args.out, stem)
    print(f"dpsynth plan: {paths['html']} (also {paths['json'].name}, {paths['md'].name})")
    return 1 if report.data.get("errors") else 0
