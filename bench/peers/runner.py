"""Run one OpenDP SmartNoise Synth synthesizer on a CSV. Executed with bench/.venv-peers/bin/python (see setup.sh).

Usage: runner.py CONFIG.json

CONFIG: {"train_csv", "out_csv", "synth": "mst"|"aim"|"dpctgan", "epsilon", "delta", "rows",
         "columns": [{"name", "kind": "categorical"|"continuous", "lower", "upper", "nullable"}], "options": {...}}

With `bench/run.py --spec user` the CSV holds the train rows coded on our release's domain (integer codes, no
nulls): every column is categorical with nullable false, and the caller decodes the output codes with our decoder.

What the peer gets (the same public information our generators get from the bench spec):
- categorical columns: their names (SmartNoise's LabelTransformer then takes the category list from the data, without
  DP; our generators get the same list as a declared public domain, so neither side pays for category discovery);
- continuous/integer columns: the same public lower/upper bounds. mst/aim ("cube" style): BinTransformer(lower, upper,
  bins=10, nullable=True), SmartNoise's default bin count; dpctgan ("gan" style): MinMaxTransformer(lower, upper,
  nullable=True). With the bounds given, SmartNoise spends no preprocessor epsilon (preprocessor_eps=0), so its whole
  epsilon goes to the synthesizer.
- identifier columns are dropped before fitting (never learned), as our generators do.
Writes the synthetic CSV and prints one JSON line {"ok": true, "fit_s", "sample_s", "rows"}; errors propagate (the
caller records the message as the result).
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import pandas as pd

warnings.filterwarnings("ignore")


def _transformer(columns, style):
    from snsynth.transform import (
        BinTransformer,
        ChainTransformer,
        LabelTransformer,
        MinMaxTransformer,
        OneHotEncoder,
        TableTransformer,
    )

    out = []
    for col in columns:
        if col["kind"] == "categorical":
            nullable = bool(col.get("nullable", True))   # false for bin codes, which hold no nulls
            if style == "cube":
                out.append(LabelTransformer(nullable=nullable))
            else:
                out.append(ChainTransformer([LabelTransformer(nullable=nullable), OneHotEncoder()]))
        elif style == "cube":
            out.append(BinTransformer(lower=col["lower"], upper=col["upper"], bins=10, nullable=True))
        else:
            out.append(MinMaxTransformer(lower=col["lower"], upper=col["upper"], nullable=True))
    return TableTransformer(out)


def main(path: str) -> None:
    from snsynth import Synthesizer

    cfg = json.load(open(path))
    columns = cfg["columns"]
    names = [c["name"] for c in columns]
    data = pd.read_csv(cfg["train_csv"], usecols=names)[names]
    for c in columns:   # categories as plain Python objects; continuous as float
        if c["kind"] == "categorical":
            data[c["name"]] = data[c["name"]].astype(object).where(data[c["name"]].notna(), None)
        else:
            data[c["name"]] = data[c["name"]].astype(float)
    synth_name = cfg["synth"]
    style = "gan" if synth_name in ("dpctgan", "patectgan", "dpgan") else "cube"
    options = dict(cfg.get("options", {}))
    if synth_name == "dpctgan":
        options.setdefault("cuda", False)
        options.setdefault("verbose", False)
    synth = Synthesizer.create(synth_name, epsilon=float(cfg["epsilon"]), delta=float(cfg["delta"]), **options)
    t0 = time.perf_counter()
    synth.fit(data, transformer=_transformer(columns, style), preprocessor_eps=0.0)
    t1 = time.perf_counter()
    out = synth.sample(int(cfg["rows"]))
    t2 = time.perf_counter()
    if not isinstance(out, pd.DataFrame):
        out = pd.DataFrame(out, columns=names)
    out.to_csv(cfg["out_csv"], index=False)
    print(json.dumps({"ok": True, "fit_s": t1 - t0, "sample_s": t2 - t1, "rows": len(out)}))


if __name__ == "__main__":
    main(sys.argv[1])
