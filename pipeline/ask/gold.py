"""``eval ask``: the gold questions parsed and run; structure and execution accuracy per split.

Structure = the parsed query equals the expected one; execution = both return the same rows on
the synthetic data set. A question the parser refuses counts as wrong on both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.ask.fetch import Row
from pipeline.ask.model import AskQuery
from pipeline.ask.parse import parse_question
from pipeline.ask.vocabulary import Vocabulary
from pipeline.errors import AskNotUnderstood, ConfigError

GOLD_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "ask"
SPLITS = ("development", "heldback")


@dataclass(frozen=True)
class GoldItem:
    """One gold question: its text, language, split and expected query."""

    question: str
    lang: str
    split: str
    expected: AskQuery


@dataclass(frozen=True)
class GoldOutcome:
    """How one question fared."""

    item: GoldItem
    parsed: AskQuery | None
    same_rows: bool

    @property
    def same_structure(self) -> bool:
        """The parsed query is the expected one."""
        return self.parsed == self.item.expected


def load_gold(directory: Path = GOLD_DIR) -> list[GoldItem]:
    """``development.yaml`` and ``heldback.yaml`` from ``directory``.

    Raises
    ------
    ConfigError
        When a file is missing or an expected query is not a valid :class:`AskQuery`.
    """
    items: list[GoldItem] = []
    for split in SPLITS:
        path = directory / f"{split}.yaml"
        try:
            entries = yaml.safe_load(path.read_text(encoding="utf-8"))
            items += [GoldItem(e["q"], e["lang"], split, AskQuery.model_validate(e["query"]))
                      for e in entries]  # fmt: skip
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigError(f"gold set {path}: {exc}") from None
    return items


def score_gold(
    items: Sequence[GoldItem], vocabulary: Vocabulary, answer: Callable[[AskQuery], list[Row]]
) -> list[GoldOutcome]:
    """Parse each question and compare its answer with the expected query's (cached)."""
    expected_rows: dict[AskQuery, list[Row]] = {}
    outcomes = []
    for item in items:
        try:
            parsed: AskQuery | None = parse_question(item.question, vocabulary)
        except AskNotUnderstood:
            parsed = None
        if item.expected not in expected_rows:
            expected_rows[item.expected] = answer(item.expected)
        same = parsed is not None and answer(parsed) == expected_rows[item.expected]
        outcomes.append(GoldOutcome(item, parsed, same))
    return outcomes


def summarise(outcomes: Sequence[GoldOutcome]) -> dict[str, Any]:
    """The figures ``eval ask --json`` prints, overall, per language and for the held-back split."""

    def share(selected: list[GoldOutcome], exact: bool) -> float:
        hits = sum(o.same_structure if exact else o.same_rows for o in selected)
        return round(hits / len(selected), 3) if selected else 0.0

    heldback = [o for o in outcomes if o.item.split == "heldback"]
    by_lang = {lang: [o for o in outcomes if o.item.lang == lang] for lang in ("en", "zh")}
    held_lang = {lang: [o for o in heldback if o.item.lang == lang] for lang in ("en", "zh")}
    return {
        "questions": len(outcomes),
        "heldback_questions": len(heldback),
        "structure_accuracy": share(list(outcomes), True),
        "execution_accuracy": share(list(outcomes), False),
        "heldback_structure_accuracy": share(heldback, True),
        "heldback_execution_accuracy": share(heldback, False),
        "execution_accuracy_by_lang": {k: share(v, False) for k, v in by_lang.items()},
        "heldback_execution_accuracy_by_lang": {k: share(v, False) for k, v in held_lang.items()},
        "failures": [
            {"q": o.item.question, "split": o.item.split,
             "parsed": None if o.parsed is None else o.parsed.model_dump(exclude_defaults=True)}
            for o in outcomes if not o.same_rows
        ],
    }  # fmt: skip
