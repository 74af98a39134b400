"""`dpsynth validate-config` and `dpsynth recommend-config`: check a deep-generator configuration before any data
is read, or recommend one for a goal. Both print JSON on stdout and read no data (only public settings: the table's
declared row count, epsilon, delta and the deep options).

    dpsynth validate-config --generator dp-ctgan --epsilon 1 --rows 26217 [--config deep.yml] [--set epochs=5 ...]
    dpsynth recommend-config --goal balanced --generator dp-ctgan --epsilon 1 --rows 26217

validate-config exits 0 when the configuration is accepted (warnings allowed) and 1 when it has errors.
"""

from __future__ import annotations

import argparse
import json
import sys

from dbt_dpsynth.extras import require
from dpsynth_core.accounting.plan import default_delta
from dpsynth_core.errors import ConfigError

DEEP_GENERATORS = ("dp-ctgan", "dp-tvae")   # the registry's DP-SGD generators (a test checks they are registered)
# The deep modules import opacus (and torch): loaded per command, so `dpsynth` runs without the [deep] extra (and
# `dpsynth ledger` does not load torch).


def _deep():
    """(config module, validation module) of the deep generators; ConfigError naming [deep] when missing."""
    require("deep", "dpsynth validate-config / recommend-config")
    from dpsynth_core.generators.deep import config, validation

    return config, validation


def _load_options(path: str | None, assignments: list[str]) -> dict:
    options: dict = {}
    if path:
        import yaml

        with open(path) as fh:
            loaded = yaml.safe_load(fh) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} is not a mapping.", fix="write `epochs: 10` style keys.")
        options.update(loaded.get("options", loaded))
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r} is not KEY=VALUE.", fix="write e.g. --set epochs=5.")
        options[key.strip()] = yaml_value(value)
    return options


def yaml_value(text: str):
    import yaml

    return yaml.safe_load(text)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--generator", choices=DEEP_GENERATORS, default="dp-ctgan")
    parser.add_argument("--epsilon", type=float, required=True, help="the release's total epsilon")
    parser.add_argument("--delta", type=float, default=None,
                        help="the release's total delta (default min(1e-6, 1/(n ln n)) for n = --rows)")
    parser.add_argument("--rows", type=int, required=True,
                        help="PUBLIC (declared) table size; never count the private table to fill this in")
    parser.add_argument("--config", default=None, help="YAML/JSON file of deep options (or a dpsynth config with "
                                                        "an `options:` mapping)")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                        help="override one deep option (repeatable)")


def _validate(args: argparse.Namespace) -> int:
    deep, validation = _deep()
    config = deep.DeepConfig.from_dict(_load_options(args.config, args.assignments))
    delta = args.delta if args.delta is not None else default_delta(args.rows)
    report = validation.validate_deep_config(config, generator=args.generator,
                                             plan=validation.deep_plan(config, args.epsilon, delta), rows=args.rows)
    out = report.to_dict()
    out["config"] = config.to_dict()
    json.dump(out, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0 if report.ok else 1


def _recommend(args: argparse.Namespace) -> int:
    deep, validation = _deep()
    base = deep.DeepConfig.from_dict(_load_options(args.config, args.assignments))
    delta = args.delta if args.delta is not None else default_delta(args.rows)
    out = validation.recommend_deep_config(goal=args.goal, generator=args.generator, rows=args.rows,
                                           epsilon=args.epsilon, delta=delta, base=base)
    json.dump(out, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


def register(subparsers) -> None:
    validate = subparsers.add_parser(
        "validate-config", help="check a dp-ctgan/dp-tvae configuration (JSON out; reads no data)",
        description="Check sampling rate (warn > 10%%, error > 20%%), steps (warn > 1000), batch vs table size and "
                    "whether epsilon is reachable; errors come with a recommended configuration.")
    _common(validate)
    validate.set_defaults(func=_validate)
    recommend = subparsers.add_parser(
        "recommend-config", help="recommend a dp-ctgan/dp-tvae configuration for a goal (JSON out; reads no data)")
    _common(recommend)
    recommend.add_argument("--goal", default="balanced",
                           help="goal preset: high_privacy, balanced (default) or high_quality (checked by "
                                "recommend_deep_config, which lists the presets it knows)")
    recommend.set_defaults(func=_recommend)
