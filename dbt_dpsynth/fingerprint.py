"""The fingerprint of a release: a hash of everything public that defines it, and nothing read from the data.

Two builds of a model with the same fingerprint would make the same kind of release (same source relation, same
public schema, same column specs, same settings, same generator and options, same library), so the second one can
serve the first one's stored fitted model instead of spending epsilon again (`dbt_dpsynth.model_store`). What the
fingerprint cannot see is the source's *data*: a table refreshed upstream keeps its fingerprint, and only an
explicit new release (`refresh: always`, `refresh: {every: 90d}` or `--vars '{dpsynth_refresh: [model]}'`) learns
the new rows. Checking the data for changes would itself read the data.

Document (canonical JSON, sorted keys, then SHA-256):

    format            FINGERPRINT_FORMAT (bumped when the document changes meaning)
    source            the dbt unique id of the source node (or the relation name outside dbt)
    schema            [[column, type], ...] in relation order (the public schema)
    columns           the resolved column specs (`TableSpec.to_dict()`: declared and type-inferred kinds, domains)
    settings          every `SynthesisConfig` field (epsilon, delta, generator, rows, max_rows, seed, budget_key,
                      target, holdout, domain_share, options) as configured (None stays None)
    library_version   {dpsynth_core, dbt_dpsynth}: a new library version is a new release

Not in it: the model's name and target relation (reuse is looked up per model and target instead), the refresh
policy and the gates (they decide when to release and how to judge a release, not what the release is).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from typing import Iterable

from dpsynth_core import __version__ as core_version
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.schema import TableSpec

FINGERPRINT_FORMAT = "dpsynth-release-fingerprint/1"
_NOT_DEFINING = ("table",)   # SynthesisConfig.table names the table in messages only


@dataclass(frozen=True)
class Fingerprint:
    """`digest` (hex SHA-256) of `document` (the canonical JSON text hashed)."""

    digest: str
    document: str

    @property
    def short(self) -> str:
        return self.digest[:12]


def release_fingerprint(*, source: str, schema: Iterable[tuple[str, str]], spec: TableSpec,
                        synthesis: SynthesisConfig, dp_gate: dict | None = None) -> Fingerprint:
    """The fingerprint of a release (see the module docstring for the document).

    Args:
        source: the source's stable identity (the dbt unique id of the node the model reads).
        schema: the source's public schema, `(column, type)` pairs in relation order.
        spec: the resolved column specs.
        synthesis: the release's settings.
        dp_gate: the DP gate's settings when one runs (it takes a node of the release's budget).
    Returns:
        The Fingerprint (digest and the document it hashes, stored beside the model for audits).
    """
    from . import __version__ as glue_version

    document = {
        "format": FINGERPRINT_FORMAT,
        "source": str(source),
        "schema": [[str(c[0]), str(c[1])] for c in schema],
        "columns": spec.to_dict(),
        "settings": {f.name: getattr(synthesis, f.name) for f in fields(SynthesisConfig)
                     if f.name not in _NOT_DEFINING},
        "library_version": {"dpsynth_core": core_version, "dbt_dpsynth": glue_version},
    }
    if dp_gate is not None:            # only when set: fingerprints of releases without a DP gate are unchanged
        document["dp_gate"] = dp_gate
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return Fingerprint(hashlib.sha256(text.encode("utf-8")).hexdigest(), text)
