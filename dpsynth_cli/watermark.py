"""`dpsynth watermark verify|embed|fingerprint|new-key`: the keyed watermark of synthetic tables.

`verify TABLE --key-env VAR` tests a table (CSV, Parquet, or `--table` in a DuckDB file) for the watermark of one key
and prints the score with its false-positive rate; exit status 0 when detected, 1 when not. The key comes from an
environment variable or a secrets file, never from the warehouse. See dpsynth_core/watermark.py and docs/governance.md.
"""

from __future__ import annotations

import json
from pathlib import Path

from dpsynth_core import watermark as wm

from ._tables import read_table


def _key_options(p) -> None:
    p.add_argument("--key-env", default=wm.DEFAULT_KEY_ENV, help=f"environment variable holding the key "
                                                               f"(default {wm.DEFAULT_KEY_ENV})")
    p.add_argument("--key-file", default=None, help="secrets file holding the key (instead of --key-env)")


def register(subparsers) -> None:
    p = subparsers.add_parser("watermark", help="embed or verify the keyed watermark of a synthetic table",
                              description=__doc__.split("\n\n")[0])
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    verify = actions.add_parser("verify", help="test a table for the watermark of a key")
    verify.add_argument("table", help="table file (.csv, .parquet, or a .duckdb file with --table)")
    verify.add_argument("--table", dest="table_name", default=None, help="[schema.]table inside a DuckDB file")
    verify.add_argument("--alpha", type=float, default=wm.DEFAULT_ALPHA,
                        help=f"false-positive rate of a positive answer (default {wm.DEFAULT_ALPHA:g})")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    _key_options(verify)
    verify.set_defaults(func=run_verify)

    embed = actions.add_parser("embed", help="watermark a CSV/Parquet synthetic table (post-processing)")
    embed.add_argument("input", help="synthetic table (.csv or .parquet)")
    embed.add_argument("--out", required=True, help="watermarked table (.csv or .parquet)")
    embed.add_argument("--columns", default=None, help="comma-separated float/timestamp columns (default: all)")
    _key_options(embed)
    embed.set_defaults(func=run_embed)

    fingerprint = actions.add_parser("fingerprint", help="print the public fingerprint of a key (for the ledger)")
    _key_options(fingerprint)
    fingerprint.set_defaults(func=lambda args: print(wm.key_fingerprint(_key(args))) or 0)

    new_key = actions.add_parser("new-key", help="print a fresh random key (store it in your secrets manager)")
    new_key.set_defaults(func=lambda args: print(wm.new_key()) or 0)


def _key(args) -> bytes:
    return wm.load_key(args.key_env, args.key_file)


def run_verify(args) -> int:
    key = _key(args)
    result = wm.detect(read_table(args.table, args.table_name), key, alpha=args.alpha)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        verdict = "DETECTED" if result.detected else "not detected"
        print(f"dpsynth watermark {result.scheme} key {result.key_fingerprint}: {verdict} — {result.green} of "
              f"{result.cells} value cells green (z={result.score:.2f}); false-positive rate of this score "
              f"p={_p_text(result)} (threshold {result.alpha:g}). Columns read: {', '.join(result.columns) or 'none'}.")
        if not result.cells:
            print("dpsynth: no float or timestamp value could carry a mark (no such column, or values rounded).")
    return 0 if result.detected else 1


def _p_text(result) -> str:
    return f"{result.p_value:.3g}" if result.p_value > 0 else f"1e{result.log10_p_value:.0f}"


def run_embed(args) -> int:
    key = _key(args)
    out_suffix = Path(args.out).suffix.lower()
    if out_suffix not in (".csv", ".parquet", ".pq"):
        from dpsynth_core.errors import InputError

        raise InputError(f"--out {args.out!r} has an unsupported extension.", fix="use .csv or .parquet.")
    frame = read_table(args.input)
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    marked, stamp = wm.embed(frame, key, columns=columns)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if out_suffix == ".csv":
        marked.to_csv(args.out, index=False)
    else:
        marked.to_parquet(args.out, index=False)
    print(f"dpsynth: watermarked {stamp.values_marked} values in {', '.join(stamp.columns) or 'no column'} with key "
          f"{stamp.key_fingerprint} ({stamp.scheme}; post-processing, no privacy cost) -> {args.out}")
    return 0
