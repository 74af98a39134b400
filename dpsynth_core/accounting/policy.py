"""Budget policy of one budget key: a lifetime cap, optional caps per spending window, optional caps per release type.

The value of one key under `dpsynth_budgets` (dbt var, or a YAML file for the CLI) is either a plain number, the
lifetime cap as before, or a mapping in this vocabulary (every cap is an epsilon, composed in zCDP as in the ledger):

    dpsynth_budgets:
      patients: 3.0                     # plain number = lifetime cap
      claims:
        lifetime: 10                    # required: composed epsilon of every release of the key, ever
        per_quarter: 2                  # calendar windows in UTC: per_day, per_week (ISO week, from Monday),
                                        #   per_month, per_quarter, per_year
        window: 90d                     # a rolling window of N days ...
        window_cap: 2                   # ... and the composed epsilon allowed inside it
        release_types:                  # per-release caps, chosen by the model's `release_type`
          internal_test: {max_epsilon: 3}
          vendor_share: {max_epsilon: 1, max_delta: 1.0e-7}
          public: {max_epsilon: 0.5}

**Windows limit the spending rate, not the loss.** A window cap bounds what the key may spend inside any one window;
once a release leaves the window, the window has room again, but that release's privacy loss has not gone anywhere:
differential privacy loss does not expire. The lifetime composed loss of the key keeps growing with every release
and is always checked against `lifetime` and always reported.

Every charged entry counts, whatever its status (reserved, released, failed), exactly as for the lifetime cap; an entry
without a charge time (a ledger row written before windows existed) counts inside every window.

`evaluate_policy` is pure: the caller passes the key's prior charged entries and the request. To be safe against
parallel builds it must run inside the same serialised transaction that inserts the reservation (as
`dbt_dpsynth.ledger.Ledger.reserve` does for the lifetime cap today). `enforce_policy` raises
`BudgetPolicyExceededError` (nothing was charged) when any level refuses.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterable, Mapping, Sequence

from ..errors import BudgetPolicyExceededError, ConfigError
from .composition import compose

_CAP_TOLERANCE = 1e-9          # float round-off when a release lands exactly on a cap (same as the ledger)
_WINDOW_PATTERN = re.compile(r"^\s*(\d+)\s*d\s*$")
_RELEASE_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_MAX_WINDOW_DAYS = 36_600      # a rolling window longer than a century is a typo


class Period(str, Enum):
    """Calendar windows, in UTC. Each starts empty at its first instant."""

    DAY = "day"
    WEEK = "week"          # ISO week: Monday 00:00 UTC
    MONTH = "month"
    QUARTER = "quarter"    # January, April, July, October
    YEAR = "year"

    def start(self, at: _dt.datetime) -> _dt.datetime:
        """First instant of the period holding `at` (naive UTC)."""
        midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
        if self is Period.DAY:
            return midnight
        if self is Period.WEEK:
            return midnight - _dt.timedelta(days=midnight.weekday())
        if self is Period.MONTH:
            return midnight.replace(day=1)
        if self is Period.QUARTER:
            return midnight.replace(day=1, month=3 * ((at.month - 1) // 3) + 1)
        return midnight.replace(day=1, month=1)

    def next_start(self, at: _dt.datetime) -> _dt.datetime:
        """First instant of the period after the one holding `at`."""
        start = self.start(at)
        if self is Period.DAY:
            return start + _dt.timedelta(days=1)
        if self is Period.WEEK:
            return start + _dt.timedelta(days=7)
        months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[self]
        month0 = start.month - 1 + months
        return start.replace(year=start.year + month0 // 12, month=month0 % 12 + 1)


# The policy vocabulary, declared once: key -> what it means (used by the parser's error messages and by the docs).
CALENDAR_KEYS: dict[str, Period] = {
    "per_day": Period.DAY, "per_week": Period.WEEK, "per_month": Period.MONTH, "per_quarter": Period.QUARTER,
    "per_year": Period.YEAR,
}
POLICY_KEYS: dict[str, str] = {
    "lifetime": "composed epsilon of every release of the key, ever (required)",
    **{k: f"composed epsilon of the releases charged in the current calendar {p.value} (UTC)"
       for k, p in CALENDAR_KEYS.items()},
    "window": "length of a rolling window, `<N>d` (N days); needs window_cap",
    "window_cap": "composed epsilon of the releases charged in the rolling window",
    "release_types": "{type: {max_epsilon: E, max_delta: D}}: per-release caps by the model's release_type",
}
RELEASE_TYPE_KEYS: dict[str, str] = {
    "max_epsilon": "largest epsilon one release of this type may have (required)",
    "max_delta": "largest delta one release of this type may have (optional)",
}
_EXAMPLE = "`claims: {lifetime: 10, per_quarter: 2}` or `claims: {lifetime: 10, window: 90d, window_cap: 2}`"


def _fail(problem: str, fix: str) -> ConfigError:
    return ConfigError(problem, fix=fix)


def _positive(value: Any, *, what: str, key: str, where: str, fix: str) -> float:
    """A positive finite number; YAML strings such as '1e-7' (PyYAML reads them as text) are accepted."""
    number = math.nan
    if not isinstance(value, bool):
        try:
            number = float(value)
        except (TypeError, ValueError):
            pass
    if not (number > 0 and math.isfinite(number)):
        raise _fail(f"budget policy of key {key!r} in {where}: {what} is {value!r}; it must be a positive number.",
                    fix)
    return number


@dataclass(frozen=True)
class WindowCap:
    """A cap on the composed epsilon charged inside one window: a calendar `period` or a rolling window of `days`."""

    name: str                      # the policy key: per_quarter, window (rolling)
    cap: float
    period: Period | None = None
    days: int | None = None

    @property
    def label(self) -> str:
        return self.name if self.period is not None else f"window {self.days}d"

    def bounds(self, now: _dt.datetime) -> tuple[_dt.datetime, _dt.datetime | None]:
        """(start, end) of the window holding `now`; an entry counts when charged at or after `start` (rolling: after
        `now - days`). `end` is when a calendar window resets (None for rolling windows, which slide)."""
        if self.period is not None:
            return self.period.start(now), self.period.next_start(now)
        return now - _dt.timedelta(days=self.days), None

    def holds(self, charged_at: _dt.datetime | None, now: _dt.datetime) -> bool:
        if charged_at is None:      # unknown charge time: counted in every window (the conservative side)
            return True
        start, _ = self.bounds(now)
        return charged_at > start if self.period is None else charged_at >= start

    def to_value(self) -> dict[str, Any]:
        if self.period is not None:
            return {self.name: self.cap}
        return {"window": f"{self.days}d", "window_cap": self.cap}


@dataclass(frozen=True)
class ReleaseTypeCap:
    """Per-release caps for one release type (e.g. `public`): each single release's epsilon (and delta)."""

    name: str
    max_epsilon: float
    max_delta: float | None = None

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {"max_epsilon": self.max_epsilon}
        if self.max_delta is not None:
            out["max_delta"] = self.max_delta
        return out


@dataclass(frozen=True)
class BudgetPolicy:
    """The validated policy of one budget key (see the module docstring for the vocabulary)."""

    budget_key: str
    lifetime: float
    windows: tuple[WindowCap, ...] = ()
    release_types: tuple[ReleaseTypeCap, ...] = ()

    @classmethod
    def parse(cls, budget_key: str, value: Any, *, where: str = "var 'dpsynth_budgets'") -> BudgetPolicy:
        """Validate one key's value: a plain number (the lifetime cap) or a policy mapping.

        Raises ConfigError naming the key, the problem and the fix.
        """
        key = str(budget_key)
        if not isinstance(value, Mapping):
            if isinstance(value, (int, float, str)) and not isinstance(value, bool):
                return cls(key, _positive(value, what="the cap", key=key, where=where,
                                          fix=f"write `{key}: 3.0` (a lifetime cap) or a policy such as {_EXAMPLE}."))
            raise _fail(f"budget policy of key {key!r} in {where} is {value!r}; it must be a number (lifetime cap) "
                        f"or a mapping.", f"write `{key}: 3.0` or {_EXAMPLE}.")
        unknown = sorted(set(map(str, value)) - set(POLICY_KEYS))
        if unknown:
            raise _fail(f"budget policy of key {key!r} in {where} has unknown setting(s) {unknown}.",
                        f"use only {', '.join(POLICY_KEYS)} (e.g. {_EXAMPLE}).")
        if "lifetime" not in value:
            raise _fail(f"budget policy of key {key!r} in {where} has no `lifetime` cap. Windows limit the spending "
                        f"rate only; the lifetime loss never expires and must be capped.",
                        f"add `lifetime: <epsilon>` to {key!r}, e.g. {_EXAMPLE}.")
        lifetime = _positive(value["lifetime"], what="lifetime", key=key, where=where,
                             fix=f"write e.g. `lifetime: 10` under {key!r}.")
        windows = [WindowCap(name, _positive(value[name], what=name, key=key, where=where,
                                             fix=f"write e.g. `{name}: 2` under {key!r}."), period=period)
                   for name, period in CALENDAR_KEYS.items() if name in value]
        if ("window" in value) != ("window_cap" in value):
            raise _fail(f"budget policy of key {key!r} in {where} sets "
                        f"{'window' if 'window' in value else 'window_cap'} without "
                        f"{'window_cap' if 'window' in value else 'window'}.",
                        f"give both, e.g. `window: 90d, window_cap: 2` under {key!r}.")
        if "window" in value:
            match = _WINDOW_PATTERN.match(str(value["window"]))
            days = int(match.group(1)) if match else 0
            if not 0 < days <= _MAX_WINDOW_DAYS:
                raise _fail(f"budget policy of key {key!r} in {where}: window is {value['window']!r}; it must be a "
                            f"number of days written `<N>d` with 1 <= N <= {_MAX_WINDOW_DAYS}.",
                            f"write e.g. `window: 90d` under {key!r}.")
            windows.append(WindowCap("window", _positive(value["window_cap"], what="window_cap", key=key,
                                                         where=where, fix=f"write e.g. `window_cap: 2` under {key!r}."),
                                     days=days))
        for w in windows:
            if w.cap > lifetime * (1 + _CAP_TOLERANCE):
                raise _fail(f"budget policy of key {key!r} in {where}: {w.label} cap {w.cap:g} exceeds the lifetime "
                            f"cap {lifetime:g}, so it could never bind.",
                            f"lower {w.name} to at most {lifetime:g}, or drop it.")
        types = cls._parse_release_types(key, value.get("release_types"), lifetime, where)
        return cls(key, lifetime, tuple(windows), types)

    @staticmethod
    def _parse_release_types(key: str, raw: Any, lifetime: float, where: str) -> tuple[ReleaseTypeCap, ...]:
        if raw is None:
            return ()
        example = "`release_types: {internal_test: {max_epsilon: 3}, public: {max_epsilon: 0.5}}`"
        if not isinstance(raw, Mapping) or not raw:
            raise _fail(f"budget policy of key {key!r} in {where}: release_types is {raw!r}; it must be a non-empty "
                        f"mapping {{type: {{max_epsilon: E}}}}.", f"write e.g. {example}.")
        out = []
        for name, caps in raw.items():
            name = str(name)
            if not _RELEASE_TYPE_PATTERN.match(name):
                raise _fail(f"budget policy of key {key!r} in {where}: release type {name!r} is not a lower-case "
                            f"name.", "use names such as internal_test, vendor_share, public.")
            if not isinstance(caps, Mapping) or "max_epsilon" not in caps:
                raise _fail(f"budget policy of key {key!r} in {where}: release type {name!r} is {caps!r}; it needs "
                            f"`max_epsilon`.", f"write `{name}: {{max_epsilon: 1}}`.")
            unknown = sorted(set(map(str, caps)) - set(RELEASE_TYPE_KEYS))
            if unknown:
                raise _fail(f"budget policy of key {key!r} in {where}: release type {name!r} has unknown setting(s) "
                            f"{unknown}.", f"use only {', '.join(RELEASE_TYPE_KEYS)}.")
            max_eps = _positive(caps["max_epsilon"], what=f"release_types.{name}.max_epsilon", key=key, where=where,
                                fix=f"write `{name}: {{max_epsilon: 1}}`.")
            if max_eps > lifetime * (1 + _CAP_TOLERANCE):
                raise _fail(f"budget policy of key {key!r} in {where}: release type {name!r} allows max_epsilon "
                            f"{max_eps:g}, more than the lifetime cap {lifetime:g}.",
                            f"lower max_epsilon of {name!r} to at most {lifetime:g}.")
            max_delta = None
            if caps.get("max_delta") is not None:
                max_delta = _positive(caps["max_delta"], what=f"release_types.{name}.max_delta", key=key,
                                      where=where, fix=f"write `{name}: {{max_epsilon: 1, max_delta: 1.0e-7}}`.")
                if max_delta >= 1:
                    raise _fail(f"budget policy of key {key!r} in {where}: release type {name!r} has max_delta "
                                f"{max_delta:g}; a delta must be below 1.", "use a delta well below 1/N, e.g. 1e-7.")
            out.append(ReleaseTypeCap(name, max_eps, max_delta))
        return tuple(out)

    @classmethod
    def from_dict(cls, budget_key: str, value: Any) -> BudgetPolicy:
        """Inverse of `to_dict` (e.g. from JSON stored next to the caps); validated like `parse`."""
        return cls.parse(budget_key, value, where="a stored budget policy")

    def to_dict(self) -> dict[str, Any]:
        """Canonical mapping in the policy vocabulary (JSON-safe); `parse(key, to_dict())` returns an equal policy."""
        out: dict[str, Any] = {"lifetime": self.lifetime}
        for w in self.windows:
            out.update(w.to_value())
        if self.release_types:
            out["release_types"] = {t.name: t.to_value() for t in self.release_types}
        return out

    def release_type(self, name: str | None) -> ReleaseTypeCap | None:
        """The caps of release type `name`; None when the policy declares no release types.

        Raises ConfigError (before anything is charged) when the policy declares types and `name` is missing or not
        one of them: an unknown type must never slip past the per-release caps.
        """
        if not self.release_types:
            return None
        declared = [t.name for t in self.release_types]
        if name is None:
            raise _fail(f"budget key {self.budget_key!r} has a policy with release types {declared}, and this model "
                        f"sets no release_type. Nothing was charged.",
                        f"set `release_type:` (one of {declared}) in the model's dpsynth config.")
        for t in self.release_types:
            if t.name == name:
                return t
        raise _fail(f"release_type {name!r} is not declared in the policy of budget key {self.budget_key!r} "
                    f"(declared: {declared}). Nothing was charged.",
                    f"use one of {declared}, or declare {name!r} under release_types of {self.budget_key!r}.")


def parse_policies(value: Mapping[str, Any] | None, *, where: str = "var 'dpsynth_budgets'"
                   ) -> dict[str, BudgetPolicy]:
    """`{budget_key: BudgetPolicy}` from the whole `dpsynth_budgets` mapping (None or {} = no policies)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(f"{where} must be a mapping {{budget_key: cap or policy}}, got {value!r}.",
                    "write e.g. `vars: {dpsynth_budgets: {patients: 3.0, claims: {lifetime: 10, per_quarter: 2}}}`.")
    return {str(k): BudgetPolicy.parse(str(k), v, where=where) for k, v in value.items()}


def load_policy_file(path: str) -> dict[str, BudgetPolicy]:
    """Policies from a YAML file holding either `dpsynth_budgets: {...}` or the mapping itself (for the CLI)."""
    import yaml

    with open(path) as fh:
        raw = yaml.safe_load(fh)
    if isinstance(raw, Mapping) and "dpsynth_budgets" in raw:
        raw = raw["dpsynth_budgets"]
    return parse_policies(raw, where=f"budget policy file {path}")


# ---------------------------------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------------------------------

def utc_naive(value: Any) -> _dt.datetime | None:
    """A charge time as a naive UTC datetime (the ledger's convention); aware times are converted, naive ones are taken
    as UTC, ISO strings are parsed, None stays None."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):         # pandas Timestamp
        if value != value:  # noqa: PLR0124 - NaT is the one timestamp unequal to itself
            return None
        value = value.to_pydatetime()
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise _fail(f"charge time {value!r} is not an ISO timestamp.",
                        "store charge times as timestamps (UTC).") from None
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day)
    raise _fail(f"charge time {value!r} ({type(value).__name__}) is not a timestamp.",
                "store charge times as timestamps (UTC).")


@dataclass(frozen=True)
class Charge:
    """One charged release of a key (a prior ledger entry) or a request, with what the policy needs.

    rho is the zCDP part, epsilon_other an (eps, delta) part accounted outside zCDP (DP-SGD), composed basically, as in
    `dpsynth_core.accounting.composition.compose`.
    """

    epsilon: float
    rho: float = 0.0
    delta: float = 0.0
    delta_conversion: float | None = None
    epsilon_other: float = 0.0
    accountant: str | None = None
    charged_at: _dt.datetime | None = None
    release_type: str | None = None

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> Charge:
        """From a ledger row / composition entry; `charged_at` falls back to `started_at` (the reservation time)."""
        charged = row.get("charged_at")
        if charged is None:
            charged = row.get("started_at")
        return cls(epsilon=float(row.get("epsilon") or 0.0), rho=float(row.get("rho") or 0.0),
                   delta=float(row.get("delta") or 0.0),
                   delta_conversion=None if row.get("delta_conversion") is None else float(row["delta_conversion"]),
                   epsilon_other=float(row.get("epsilon_other") or 0.0), accountant=row.get("accountant"),
                   charged_at=utc_naive(charged), release_type=row.get("release_type"))

    def composition_entry(self) -> dict[str, Any]:
        return {"rho": self.rho, "delta": self.delta, "delta_conversion": self.delta_conversion,
                "epsilon": self.epsilon, "epsilon_other": self.epsilon_other, "accountant": self.accountant}


def _as_charge(entry: Charge | Mapping[str, Any]) -> Charge:
    return entry if isinstance(entry, Charge) else Charge.from_mapping(entry)


@dataclass(frozen=True)
class LevelCheck:
    """The numbers of one policy level for one request (all epsilons composed in zCDP unless `unit` says delta).

    `spent` is what the level already holds, `would_be` that plus the request (composed), `remaining` the headroom
    `cap - spent` in composed epsilon (not the largest next request: composition is sub-additive in epsilon).
    """

    level: str                              # lifetime | per_quarter | window 90d | release_type public
    cap: float
    spent: float
    requested: float
    would_be: float
    allowed: bool
    releases: int = 0                       # prior entries counted at this level
    window_start: _dt.datetime | None = None
    window_end: _dt.datetime | None = None  # calendar windows: when the window resets
    frees_at: _dt.datetime | None = None    # refused windows: the earliest time the request would fit
    unit: str = "epsilon"

    @property
    def remaining(self) -> float:
        return max(self.cap - self.spent, 0.0)

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("level", "unit", "cap", "spent", "requested", "would_be", "allowed",
                                             "releases")}
        out["remaining"] = self.remaining
        for k in ("window_start", "window_end", "frees_at"):
            value = getattr(self, k)
            out[k] = value.isoformat() if value is not None else None
        return out


@dataclass(frozen=True)
class PolicyDecision:
    """Allow/refuse at every level of a key's policy, with the numbers of each level for reports.

    `lifetime_epsilon` is the key's composed loss including this request; it is reported whatever the windows say.
    """

    budget_key: str
    release_type: str | None
    now: _dt.datetime
    levels: tuple[LevelCheck, ...]
    policy: BudgetPolicy = field(repr=False, compare=False)

    @property
    def allowed(self) -> bool:
        return all(level.allowed for level in self.levels)

    @property
    def refusals(self) -> tuple[LevelCheck, ...]:
        return tuple(level for level in self.levels if not level.allowed)

    @property
    def lifetime(self) -> LevelCheck:
        return self.levels[0]

    @property
    def lifetime_epsilon(self) -> float:
        return self.lifetime.would_be

    def to_dict(self) -> dict[str, Any]:
        return {"budget_key": self.budget_key, "release_type": self.release_type, "now": self.now.isoformat(),
                "allowed": self.allowed, "policy": self.policy.to_dict(),
                "note": "windows limit the spending rate; the lifetime composed loss never expires",
                "levels": [level.to_dict() for level in self.levels]}


def _fits(epsilon: float, cap: float) -> bool:
    return epsilon <= cap * (1 + _CAP_TOLERANCE)


def _window_check(window: WindowCap, prior: Sequence[Charge], request: Charge, now: _dt.datetime) -> LevelCheck:
    inside = [c for c in prior if window.holds(c.charged_at, now)]
    spent = compose(c.composition_entry() for c in inside).epsilon
    would_be = compose([c.composition_entry() for c in inside] + [request.composition_entry()]).epsilon
    start, end = window.bounds(now)
    allowed = _fits(would_be, window.cap)
    frees_at = None if allowed else _frees_at(window, inside, request, now)
    return LevelCheck(window.label, window.cap, spent, request.epsilon, would_be, allowed, len(inside),
                      start, end, frees_at)


def _frees_at(window: WindowCap, inside: Sequence[Charge], request: Charge, now: _dt.datetime
              ) -> _dt.datetime | None:
    """Earliest time at which the request would fit in `window` if nothing else were charged; None if never (the
    request alone exceeds the cap, or entries without a charge time hold it)."""
    alone = compose([request.composition_entry()]).epsilon
    if not _fits(alone, window.cap):
        return None
    if window.period is not None:
        return window.period.next_start(now)
    if any(c.charged_at is None for c in inside):
        return None
    ordered = sorted(inside, key=lambda c: c.charged_at)
    for drop in range(1, len(ordered) + 1):
        rest = [c.composition_entry() for c in ordered[drop:]] + [request.composition_entry()]
        if _fits(compose(rest).epsilon, window.cap):
            return ordered[drop - 1].charged_at + _dt.timedelta(days=window.days)
    return None  # pragma: no cover - dropping every entry leaves the request alone, which fits


def evaluate_policy(policy: BudgetPolicy, prior: Iterable[Charge | Mapping[str, Any]],
                    request: Charge | Mapping[str, Any], now: _dt.datetime | None = None) -> PolicyDecision:
    """Check a request against every level of `policy`, never raising for a budget refusal.

    Args:
        policy: the key's policy.
        prior: the key's charged entries (every status counts), as `Charge`s or ledger-row mappings.
        request: the release asked for (its `charged_at` is ignored: it would be charged at `now`).
        now: the decision time (default: the current UTC time); aware or naive UTC.

    Returns:
        A PolicyDecision: `levels[0]` is the lifetime level, then the release-type caps, then each window.

    Raises:
        ConfigError when the policy declares release types and the request's type is missing or unknown.
    """
    now = utc_naive(now) or _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    charges = [_as_charge(c) for c in prior]
    req = _as_charge(request)
    entries = [c.composition_entry() for c in charges]
    spent = compose(entries).epsilon
    total = compose(entries + [req.composition_entry()]).epsilon
    levels = [LevelCheck("lifetime", policy.lifetime, spent, req.epsilon, total, _fits(total, policy.lifetime),
                         len(charges))]
    release_type = policy.release_type(req.release_type)
    if release_type is not None:
        label = f"release_type {release_type.name}"
        levels.append(LevelCheck(label, release_type.max_epsilon, 0.0, req.epsilon, req.epsilon,
                                 _fits(req.epsilon, release_type.max_epsilon)))
        if release_type.max_delta is not None:
            levels.append(LevelCheck(label, release_type.max_delta, 0.0, req.delta, req.delta,
                                     _fits(req.delta, release_type.max_delta), unit="delta"))
    levels.extend(_window_check(w, charges, req, now) for w in policy.windows)
    return PolicyDecision(policy.budget_key, req.release_type, now, tuple(levels), policy)


def enforce_policy(policy: BudgetPolicy, prior: Iterable[Charge | Mapping[str, Any]],
                   request: Charge | Mapping[str, Any], now: _dt.datetime | None = None) -> PolicyDecision:
    """`evaluate_policy`, raising BudgetPolicyExceededError (with the decision attached) when a level refuses."""
    decision = evaluate_policy(policy, prior, request, now)
    if not decision.allowed:
        raise refusal_error(decision)
    return decision


def _fmt_time(value: _dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def refusal_error(decision: PolicyDecision) -> BudgetPolicyExceededError:
    """The typed error for a refused decision: names the key, the first refusing level and its numbers, the fix."""
    level = decision.refusals[0]
    key = decision.budget_key
    lifetime = decision.lifetime
    raise_hint = "(only if your privacy policy allows)"
    if level.level == "lifetime":
        where, fix = "", (f"lower this model's epsilon, raise `lifetime` of {key!r} in var 'dpsynth_budgets' "
                          f"{raise_hint}, or reuse the existing release. The lifetime loss never expires.")
    elif level.unit == "delta":
        where, fix = " (a per-release cap)", (f"lower this model's delta to at most {level.cap:g}, or use another "
                                               f"release_type only if the release really is of that type.")
    elif level.level.startswith("release_type"):
        where, fix = " (a per-release cap)", (f"lower this model's epsilon to at most {level.cap:g}, or use another "
                                               f"release_type only if the release really is of that type.")
    else:
        start = _fmt_time(level.window_start) if level.window_start else "?"
        where = f" (window from {start}{' to ' + _fmt_time(level.window_end) if level.window_end else ' to now'})"
        if level.frees_at is not None:
            wait = f"wait until {_fmt_time(level.frees_at)}, when the request fits in the window, "
        else:
            wait = "waiting does not help (the request alone exceeds this window's cap); "
        setting = "window_cap" if level.level.startswith("window ") else level.level
        fix = (f"{wait}lower this model's epsilon, or raise {setting} of {key!r} in var "
               f"'dpsynth_budgets' {raise_hint}. Windows limit the spending rate only: the key's lifetime composed "
               f"loss (now epsilon={lifetime.spent:.4g} of {lifetime.cap:g}) keeps growing and never expires.")
    others = [lv.level + (" (delta)" if lv.unit == "delta" else "") for lv in decision.refusals[1:]]
    also = f" Also over: {', '.join(others)}." if others else ""
    unit = level.unit
    if where == " (a per-release cap)":
        numbers = f"requested {unit}={level.requested:.4g} > cap {unit}={level.cap:.4g} per release"
    else:
        numbers = (f"spent {unit}={level.spent:.4g}, requested {unit}={level.requested:.4g}, cumulative would be "
                   f"{unit}={level.would_be:.4g} > cap {unit}={level.cap:.4g}")
    message = (f"Privacy budget policy refused budget_key {key!r} at level {level.level}{where}: {numbers}. "
               f"Nothing was charged.{also} Fix: {fix}")
    return BudgetPolicyExceededError(key, level.level, level.spent, level.requested, level.cap, level.would_be,
                                     message, decision=decision)
