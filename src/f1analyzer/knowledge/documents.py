"""Documents of the knowledge base: what the retriever returns and the narrator cites.

A :class:`Document` is one self-contained passage about a race, a circuit, a season or a
sporting rule. Its ``id`` is stable (``race:2023:05``, ``rule:two-compound``) so that building the
index twice adds nothing and a narration can cite the same source across runs.

The race, circuit and season writers (phase 2) turn the race store and the fitted models into
prose; this module ships the sporting-rule reference notes, which need no data: they explain the
regulations that shape every strategy (why a one-stop still needs two compounds, why a Safety Car
makes a stop cheap, why a red flag can rescue a strategy).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Literal

DocumentKind = Literal["race", "circuit", "season", "rule"]
DOCUMENT_KINDS: tuple[str, ...] = ("race", "circuit", "season", "rule")

#: metadata keys every index stores and can filter on (``driver`` filters the ``drivers`` list)
METADATA_KEYS: tuple[str, ...] = ("kind", "season", "round", "event", "circuit", "drivers")


@dataclass(frozen=True)
class Document:
    """One passage of the knowledge base.

    Args:
        id: stable identifier, e.g. ``race:2023:05`` or ``rule:safety-car-pit-loss``.
        kind: ``race``, ``circuit``, ``season`` or ``rule``.
        title: short human title shown next to a citation.
        text: the passage itself (plain prose, a few hundred words at most).
        season, round: event identity when the passage is about one race or season.
        event: event name (``Monaco Grand Prix``); circuit: circuit key (``monaco``).
        drivers: three-letter codes the passage is about (``["VER", "LEC"]``).
    """

    id: str
    kind: DocumentKind
    title: str
    text: str
    season: int | None = None
    round: int | None = None
    event: str | None = None
    circuit: str | None = None
    drivers: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.id or not self.id.isascii():
            raise ValueError(f"document id must be non-empty ASCII, got {self.id!r}")
        if self.kind not in DOCUMENT_KINDS:
            raise ValueError(f"document kind must be one of {DOCUMENT_KINDS}, got {self.kind!r}")
        # accept lists from callers, keep the dataclass hashable
        object.__setattr__(self, "drivers", tuple(str(d).upper() for d in self.drivers))

    @property
    def metadata(self) -> dict:
        """Filterable metadata; ``None`` values are left out (Pinecone refuses nulls)."""
        meta: dict = {"kind": self.kind}
        for key in ("season", "round", "event", "circuit"):
            value = getattr(self, key)
            if value is not None:
                meta[key] = value
        meta["drivers"] = list(self.drivers)
        return meta

    @property
    def content_hash(self) -> str:
        """sha256 of everything stored; an upsert skips documents whose hash is unchanged."""
        payload = json.dumps(asdict(self), sort_keys=True, default=list)
        return hashlib.sha256(payload.encode()).hexdigest()

    def embedding_text(self) -> str:
        """What the embedder sees: the title carries the event and topic, the text the detail."""
        return f"{self.title}. {self.text}"


def _rule(slug: str, title: str, text: str) -> Document:
    return Document(id=f"rule:{slug}", kind="rule", title=title, text=" ".join(text.split()))


def rule_documents() -> list[Document]:
    """Reference notes on the sporting rules that shape race strategy (2018–2024 regulations).

    Returns:
        Eight ``kind="rule"`` documents with stable ids ``rule:<slug>``.
    """
    return [
        _rule(
            "two-compound",
            "Two-compound rule (mandatory pit stop)",
            """In a dry race every driver must use at least two different specifications of
            dry-weather (slick) tyre, chosen from the three compounds Pirelli nominates for the
            event. A driver who does not comply is penalised by the stewards. The rule lapses
            for a driver who uses intermediate or wet tyres at any point of the race. This is
            why a one-stop race still means a compound change (for example Medium then Hard)
            and why the last stop of a two-stop race is often spent on the compound not used
            yet. A tyre change made during a red-flag suspension counts: at Monaco 2024 drivers
            fitted Hards during the lap-1 red flag and could run to the end without stopping.""",
        ),
        _rule(
            "starting-tyre",
            "Starting tyre rule for the top ten (2014–2021)",
            """From 2014 to 2021 the drivers who reached Q3 had to start the race on the set of
            tyres with which they set their fastest Q2 time; drivers from P11 down had a free
            choice. Front-runners therefore often ran Mediums in Q2 to start on the more durable
            compound and stop later. The rule was dropped from 2022, so since then every driver
            picks any dry compound for the start.""",
        ),
        _rule(
            "safety-car-pit-loss",
            "Safety Car: why a pit stop is cheaper",
            """When the Safety Car is deployed (track status 4) the field queues behind it at a
            much lower speed, so a car that pits loses far less time relative to its rivals:
            the pit lane is driven at the usual speed limit while the cars on track are slow.
            The net pit loss typically falls to about half of its green-flag value, from roughly
            20–25 s to 10–13 s depending on the circuit. The field also bunches up, erasing gaps
            built over previous laps. Teams therefore often bring a planned stop forward to the
            first Safety Car lap; drivers who had just stopped lose out, and a driver who stays
            out gains track position but has older tyres for the restart.""",
        ),
        _rule(
            "virtual-safety-car",
            "Virtual Safety Car (VSC)",
            """Under a Virtual Safety Car (track status 6, ending 7) every driver must stay above
            a minimum time, set by the FIA, through each marshalling sector, roughly 30–40%
            slower than racing pace. Gaps are frozen rather than closed up, because there is no
            queue behind a car. A pit stop under a VSC saves less than under a full Safety Car,
            typically 30–50% of the green-flag pit loss, and the saving depends on where in the
            lap the VSC starts. A short VSC can end before a car that planned to pit reaches the
            pit entry, so the gain is less certain than under a Safety Car.""",
        ),
        _rule(
            "drs",
            "DRS (Drag Reduction System)",
            """DRS opens a flap in the rear wing to cut drag on the straights designated as DRS
            zones. A driver may use it in a zone when within one second of the car ahead at the
            zone's detection point. Race control enables it two laps after the start or after a
            Safety Car restart (one lap from 2023) and disables it in wet conditions or when
            there is a hazard in the zone. DRS makes overtaking easier, which lowers the value of
            track position: an undercut or a one-stop that leaves a driver behind faster cars
            is riskier on circuits with long DRS zones, and trains of cars within DRS range of
            each other make passing harder for everyone in them.""",
        ),
        _rule(
            "pit-lane-speed-and-loss",
            "Pit-lane speed limit and pit loss",
            """The pit-lane speed limit is 80 km/h at most circuits and 60 km/h where the pit
            lane is narrow, such as Monaco; exceeding it earns a fine in practice and a time
            penalty in the race. The pit loss of a stop is the time spent driving through the
            pit lane at the limit plus the stationary time (about 2–3 s for a good stop) minus
            the time the same stretch would have taken at racing speed. It is typically 18–25 s
            and varies by circuit with the length of the pit lane; it sets the price of each
            extra stop that a strategy has to recover with faster tyres.""",
        ),
        _rule(
            "red-flag-tyre-change",
            "Red flag: free tyre change",
            """When the race is suspended with a red flag, the cars enter the pit lane and stop in
            line; teams may change tyres and repair damage without losing any time to rivals.
            The change counts for the two-compound rule. A red flag therefore hands a free pit
            stop to everyone: drivers who had not stopped yet gain most, and drivers who had just
            made a stop under green lose the time they paid for it. Rain-affected red flags also
            let teams switch between slicks and intermediate or wet tyres for the restart.""",
        ),
        _rule(
            "parc-ferme-and-tyre-allocation",
            "Parc fermé and tyre allocation",
            """From the start of qualifying the cars are under parc fermé conditions: the set-up
            cannot be changed before the race without starting from the pit lane. Pirelli labels
            its slick range by hardness (C1 hardest to C5 softest since 2019; named compounds
            such as Ultrasoft and Hypersoft in 2018) and nominates three consecutive compounds
            per event, called Hard, Medium and Soft for that weekend. On a standard weekend each
            driver receives 13 sets of slicks (2 Hard, 3 Medium and 8 Soft since 2019) and
            returns sets during the weekend, so the new sets left for the race limit the
            strategies a team can actually run.""",
        ),
    ]
