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

    def model_output(self, session: Any, frame: Any, domain: Any, decided_kinds: bool = False) -> Any:
        """What a model returns for its synthetic rows `frame` (a DataFrame) so the written table has the source's
        types where the engine can cast (post-processing; public types only). Default: the frame itself.

        Args:
            session: the session/connection the model writes through.
            frame: the synthetic rows.
            domain: the release's `TableDomain` (its `source_types` are the relation's public schema).
            decided_kinds: keep the type of a DP-decided kind for text columns (`infer_text_kinds`) instead of text.
        """
        return frame

