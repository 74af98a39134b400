"""Optional dependency groups (the pip extras of dbt-dpsynth) and the error that names the one to install.

`pip install dbt-dpsynth` carries what the marginal generators (aim, mst, copula), the evaluation and the CLI need;
the deep generators' torch and opacus come with `[deep]`, dbt itself with `[dbt]`. A missing extra is reported as a
ConfigError before anything is read or charged.
"""

from __future__ import annotations

import importlib

from dpsynth_core.errors import ConfigError

# extra -> modules it provides (import names)
EXTRAS: dict[str, tuple[str, ...]] = {
    "deep": ("torch", "opacus"),
    "dbt": ("dbt.adapters.duckdb",),
    "snowflake": ("snowflake.snowpark",),
    "spark": ("pyspark",),
}
# torch's default wheel on Linux pulls CUDA (GBs); the CPU wheel is enough for DP-SGD on tables
_INSTALL_HINTS = {
    "deep": 'pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu && '
            'pip install "dbt-dpsynth[deep]"',
}


def missing_modules(extra: str) -> list[str]:
    """The modules of `extra` that cannot be imported here."""
    missing = []
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    return missing


def require(extra: str, needed_by: str, table: str | None = None) -> None:
    """Raise a ConfigError naming the pip extra when one of its modules is missing.

    Args:
        extra: key of `EXTRAS` (e.g. "deep").
        needed_by: what needs it, for the message (e.g. "generator 'dp-tvae'").
        table: relation name for the message, if any.

    Raises:
        ConfigError: a module of the extra cannot be imported.
    """
    missing = missing_modules(extra)
    if missing:
        raise ConfigError(f"{needed_by} needs {', '.join(missing)} (not installed here; the [{extra}] extra of "
                          "dbt-dpsynth).", table=table,
                          fix=_INSTALL_HINTS.get(extra, f'pip install "dbt-dpsynth[{extra}]"') + ".")


def require_for_generator(generator: str, table: str | None = None) -> None:
    """Check, before any data is read, that the generator's optional dependencies are installed (loading its class
    from the registry; a DP-SGD generator without torch/opacus is a ConfigError naming the [deep] extra)."""
    from dpsynth_core.generators.base import generator_class

    generator_class(generator, table)
