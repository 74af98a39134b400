"""What an engine adapter adds to `dpsynth_core.measurement.engine.Engine`: how `engine_for` recognises its relations
and builds it from one."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from dpsynth_core.measurement.engine import Engine


class RelationEngine(Engine):
    """An `Engine` that `dbt_dpsynth.engines.engine_for` can pick for a relation object.

    Attributes:
        relation_types: public names of the relation types it reads (shown when a relation is refused).
        pushdown: True when queries run where the data lives (a warehouse); False for in-memory frames.
    """

    relation_types: ClassVar[tuple[str, ...]] = ()
    pushdown: ClassVar[bool] = True

    @classmethod
    @abstractmethod
    def accepts(cls, relation: Any) -> bool:
        """Whether this engine reads `relation`. Must be cheap and must not import another engine's library."""

    @classmethod
    @abstractmethod
    def from_relation(cls, relation: Any, relation_name: str, session: Any = None) -> "RelationEngine":
        """The engine over `relation` (named `relation_name` in messages), on `session` when it needs one."""
