"""Accepted failures: an environment's `waivers:`, each naming a check (or a symptom id), why the
failure is accepted, who owns it and until when. A waived failure does not fail the gate; an
expired waiver, or a check the gate could not see, fails as the check would."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from runbook_checks.runbooks import SYMPTOM_ID


class Waiver(BaseModel):
    """One accepted failure. `check` is a check's name (`test_x`), its class and name
    (`TestX::test_x`), its node id, or a symptom id (`author.9`: every check of that symptom).
    `found`, when given, narrows it to the known finding: a failure whose found text no longer
    contains it is not waived."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    check: str = Field(min_length=1)
    justification: str = Field(min_length=10)
    owner: str = Field(min_length=1)
    expires: datetime.date
    found: str | None = Field(None, min_length=1)

    def matches(self, nodeid: str, symptom_id: str | None) -> bool:
        """Whether this waiver names the check: by symptom id, whole node id or a `::` suffix of it,
        with or without its parameters (`test_x` names `test_x[api]` and `test_x[web]`)."""
        if SYMPTOM_ID.match(self.check):
            return self.check == symptom_id
        unparametrized = nodeid.split("[", 1)[0]
        return any(name == self.check or name.endswith(f"::{self.check}")
                   for name in (nodeid, unparametrized))

    def expired(self, today: datetime.date) -> bool:
        return today > self.expires

    def describe(self) -> str:
        return f"{self.justification} (owner {self.owner}, until {self.expires.isoformat()})"


@dataclass
class Waivers:
    """The environment's waivers and what became of each in this run."""

    declared: list[Waiver]
    today: datetime.date
    used: set[int]  # indexes of waivers that matched a collected check

    @classmethod
    def of(cls, declared: list[Waiver], today: datetime.date | None = None) -> Waivers:
        return cls(declared, today or datetime.datetime.now(datetime.UTC).date(), set())

    def for_check(self, nodeid: str, symptom_id: str | None) -> Waiver | None:
        """The waiver naming this check (unexpired ones first), marked as used."""
        found = [(index, w) for index, w in enumerate(self.declared) if w.matches(nodeid, symptom_id)]
        self.used.update(index for index, _ in found)
        found.sort(key=lambda pair: pair[1].expired(self.today))
        return found[0][1] if found else None

    def unmatched(self) -> list[Waiver]:
        """Waivers that named no collected check: a typo, or a check since renamed or removed."""
        return [w for index, w in enumerate(self.declared) if index not in self.used]
