"""Typed errors. Every message names the table, the column (when there is one) and the fix."""

from __future__ import annotations


class DpsynthError(Exception):
    """Base class of every error raised on purpose by dbt-dpsynth."""


def _compose(problem: str, *, table: str | None, column: str | None, fix: str | None) -> str:
    where = []
    if table:
        where.append(f"table {table!r}")
    if column:
        where.append(f"column {column!r}")
    prefix = f"[{', '.join(where)}] " if where else ""
    return prefix + problem + (f" Fix: {fix}" if fix else "")


class _LocatedError(DpsynthError):
    def __init__(self, problem: str, *, table: str | None = None, column: str | None = None, fix: str | None = None):
        self.problem, self.table, self.column, self.fix = problem, table, column, fix
        super().__init__(_compose(problem, table=table, column=column, fix=fix))


class SpecError(_LocatedError):
    """A column spec (kind, domain, bounds) is invalid or contradicts the public schema."""


class ConfigError(_LocatedError):
    """A synthesis setting (epsilon, delta, generator, rows, ...) is invalid."""


class InputError(_LocatedError):
    """The input relation cannot be synthesised (empty schema, unsupported type, ...)."""


class EngineError(_LocatedError):
    """An engine (or a step reading raw rows) failed; its own message is withheld because it can quote private values.

    Engines quote the offending value (`Could not convert string '...' to DOUBLE`, a CSV reader's `Original Line:
    ...`). What leaves instead is public: the exception's type, the step and the columns. Raised by
    `dpsynth_core.measurement.guard`.

    Attributes:
        step: the step that failed (e.g. `domain:age`, `holdout split`, `fit`).
        error_type: the withheld exception's class name (e.g. `ConversionException`).
        columns: the columns the step read (public names).
    """

    def __init__(self, *, step: str, error_type: str, table: str | None = None, columns: tuple[str, ...] = (),
                 fix: str | None = None):
        self.step, self.error_type, self.columns = step, error_type, tuple(columns)
        what = (f"reading column(s) {list(self.columns)}" if len(self.columns) > 1 else "")
        super().__init__(f"step {step!r} failed with {error_type}{' ' + what if what else ''}; the engine's message "
                         "is withheld because it can quote private values.", table=table,
                         column=self.columns[0] if len(self.columns) == 1 else None, fix=fix)


def public_message(error: BaseException) -> str:
    """What may be shown or stored about `error`: our own messages in full (they name table, column and fix and never
    quote a value), anything else by its type only."""
    if isinstance(error, DpsynthError):
        return f"{type(error).__name__}: {error}"
    return f"{type(error).__name__} (message withheld: it can quote private values)"


class BudgetExceededError(DpsynthError):
    """The request would take a budget key past its cap; nothing was charged."""

    def __init__(self, budget_key: str, spent_epsilon: float, requested_epsilon: float, cap_epsilon: float,
                 would_be_epsilon: float):
        self.budget_key = budget_key
        self.spent_epsilon, self.requested_epsilon = spent_epsilon, requested_epsilon
        self.cap_epsilon, self.would_be_epsilon = cap_epsilon, would_be_epsilon
        super().__init__(
            f"Privacy budget exceeded for budget_key {budget_key!r}: spent epsilon={spent_epsilon:.4g}, "
            f"requested epsilon={requested_epsilon:.4g}, cumulative would be epsilon={would_be_epsilon:.4g} "
            f"> cap epsilon={cap_epsilon:.4g}. Nothing was charged. Fix: lower this model's epsilon, raise the cap in "
            f"var 'dpsynth_budgets' (only if your privacy policy allows), or keep the stored release: a rebuild with "
            f"unchanged settings reuses it without a charge (drop the model from var 'dpsynth_refresh', or its "
            f"refresh: always)."
        )


class BudgetOverspendError(DpsynthError):
    """Internal guard: a step tried to spend more rho than the release's budget holds (a bug, never user error)."""


class BudgetPolicyExceededError(BudgetExceededError):
    """A level of a key's budget policy (lifetime, a window, a release type) refuses the request; nothing was charged.

    A BudgetExceededError, so every caller handling the plain cap handles policy refusals too. `level` names the level
    (`lifetime`, `per_quarter`, `window 90d`, `release_type public`); `decision` is the full
    `dpsynth_core.accounting.policy.PolicyDecision` with the numbers of every level.
    """

    def __init__(self, budget_key: str, level: str, spent: float, requested: float, cap: float, would_be: float,
                 message: str, decision=None):
        self.budget_key, self.level, self.decision = budget_key, level, decision
        self.spent_epsilon, self.requested_epsilon = spent, requested
        self.cap_epsilon, self.would_be_epsilon = cap, would_be
        DpsynthError.__init__(self, message)
