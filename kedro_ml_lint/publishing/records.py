"""What one ``--log`` transaction created in the tracking store, and the tag that finds it.

Everything a transaction creates carries :data:`TRANSACTION_TAG` (a fresh id) from its
creation on; :class:`Records` holds that id and the ids MLflow returned before a failure (an
interrupted call returns none). The journal stores it, the roll-back reads it
(docs/design.md §6).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from kedro_ml_lint.vocabulary import TAG_PREFIX

# On every run, logged model, registered model, version and experiment a transaction creates.
TRANSACTION_TAG = TAG_PREFIX + "transaction"


@dataclass
class Records:
    """What a transaction created in the tracking store, to remove on failure.

    Attributes:
        experiment_id: The experiment logged to, once resolved.
        experiment_created: Whether the transaction created that experiment.
        runs: The runs it started.
        versions: The ``(name, version)`` of each model version it registered.
        registered_models_created: The registered models it created.
        aliases: ``(name, alias, previous version or None)`` of each alias it is about to
            move, recorded before the move: the roll-back puts the alias back there.
        transaction: The value of :data:`TRANSACTION_TAG` on everything it created.
    """

    experiment_id: str | None = None
    experiment_created: bool = False
    runs: list[str] = field(default_factory=list)
    versions: list[tuple[str, str]] = field(default_factory=list)
    registered_models_created: list[str] = field(default_factory=list)
    aliases: list[tuple[str, str, str | None]] = field(default_factory=list)
    transaction: str | None = None

    def to_json(self) -> str:
        """The records as one JSON document (the journal's content)."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Records:
        """Read what :meth:`to_json` wrote.

        Raises:
            ValueError: When ``text`` is not JSON.
            TypeError: When it is JSON of another shape.
        """
        entry = json.loads(text)
        if not isinstance(entry, dict):
            raise TypeError("a journal holds one JSON object")
        return cls(
            **{
                **entry,
                "versions": [tuple(v) for v in entry.get("versions", [])],
                "aliases": [tuple(a) for a in entry.get("aliases", [])],
            }
        )


def tags(records: Records) -> dict[str, str]:
    """The tags every record of this transaction is created with."""
    return {TRANSACTION_TAG: records.transaction} if records.transaction else {}


def tag_filter(records: Records) -> str | None:
    """MLflow's search filter for what carries this transaction's tag."""
    if not records.transaction:
        return None
    return f"tags.`{TRANSACTION_TAG}` = '{records.transaction}'"
