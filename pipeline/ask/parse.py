"""Question text → :class:`AskQuery`, offline: phrase tables, time phrases and fuzzy names.

Nothing is guessed silently: when the question names no subject, or a node or metric the store
does not hold, :class:`AskNotUnderstood` says what was understood and which questions are close.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from rapidfuzz import fuzz, process

from pipeline.ask import lexicon as lx
from pipeline.ask.examples import EXAMPLES
from pipeline.ask.model import AskQuery
from pipeline.ask.timewords import cn_number, find_time
from pipeline.ask.vocabulary import METRIC_LIKE, NODE_LIKE, Vocabulary
from pipeline.errors import AskNotUnderstood

_TOP_N = re.compile(r"\btop\s*(\d{1,3})\b|前\s*(\d{1,3}|[一二两三四五六七八九十]+)\s*(?:台|个|名)?")


def parse_question(question: str, vocabulary: Vocabulary) -> AskQuery:
    """The typed query ``question`` asks for.

    Raises
    ------
    AskNotUnderstood
        When no subject (anomalies, incidents, ...) is named, or a name is unknown.
    """
    text = " ".join(question.lower().replace("？", "?").split())
    fields: dict[str, object] = {}
    said: dict[str, str] = {}
    time = find_time(text)
    if time is not None:
        text = time.rest
        fields |= {"since": time.since, "until": time.until}
        said["time"] = time.said
    text, problems = _names(text, vocabulary, fields, said)
    text = " ".join(text.split())
    what = _first_family(text, lx.WHAT_WORDS)
    if what is None and fields.get("kinds"):
        what = "incidents"  # "when was the last memory leak?" asks about incidents
    elif what is None and fields.get("metrics"):
        what = "metrics"  # "cpu trend of web-01" asks about the metric itself
    if what is not None:
        fields["what"] = what
        said["what"] = what
    fields |= _aggregation(text, what)
    said |= {key: str(fields[key]) for key in ("aggregation", "group_by") if key in fields}
    if problems or what is None:
        if what is None:
            problems.append("no subject: anomalies, incidents, actions, metrics or forecasts")
        raise AskNotUnderstood("; ".join(problems), said, closest_questions(question))
    return AskQuery.model_validate(fields)


def closest_questions(question: str, count: int = 3) -> list[str]:
    """The example questions nearest to ``question``, to show when it was not understood."""
    found = process.extract(question, EXAMPLES, scorer=fuzz.token_set_ratio, limit=count)
    return [str(match[0]) for match in found]


def _names(
    text: str, vocabulary: Vocabulary, fields: dict[str, object], said: dict[str, str]
) -> tuple[str, list[str]]:
    """Kinds, nodes, metrics, roles and severities, each cut from the text once matched."""
    problems: list[str] = []
    text, kinds = _phrases(text, lx.KIND_PHRASES)
    text, nodes, unknown = _tokens(text, NODE_LIKE, vocabulary.match_node)
    problems += [f"no node named {name!r} in the store" for name in unknown]
    text, exact, unknown_metrics = _tokens(text, METRIC_LIKE, vocabulary.match_metric)
    problems += [f"no metric named {name!r} in the store" for name in unknown_metrics]
    text, families = _phrases(text, lx.METRIC_WORDS)
    roles_table = {role: (role, *lx.ROLE_ALIASES.get(role, ())) for role in vocabulary.roles}
    text, roles = _phrases(text, roles_table)
    text, severities = _phrases(text, lx.SEVERITY_WORDS)
    found = {"kinds": kinds, "nodes": nodes, "metrics": exact + families, "roles": roles,
             "severities": severities}  # fmt: skip
    for key, values in found.items():
        if values:
            fields[key] = tuple(values)
            said[key] = ",".join(sorted(set(values)))
    return text, problems


def _phrases(text: str, table: dict[str, tuple[str, ...]]) -> tuple[str, list[str]]:
    """Keys whose phrases occur in ``text`` (word-bounded for Latin words), phrases cut out."""
    found: list[str] = []
    for key, phrases in table.items():
        for phrase in sorted(phrases, key=len, reverse=True):
            # Latin words need boundaries, but CJK characters count as word characters: look
            # only for ASCII letters and digits around them ("web节点" names the role web).
            pattern = re.escape(phrase)
            if phrase.isascii():
                pattern = rf"(?<![a-z0-9_]){pattern}(?![a-z0-9_])"
            if re.search(pattern, text):
                text = re.sub(pattern, " ", text)
                found.append(key)
                break
    return text, found


def _tokens(
    text: str, pattern: re.Pattern[str], match: Callable[[str], str | None]
) -> tuple[str, list[str], list[str]]:
    """Name-shaped tokens matched against the store's names: (text, known, unknown)."""
    known: list[str] = []
    unknown: list[str] = []
    for token in pattern.findall(text):
        name = match(token)
        (known if name else unknown).append(name or token)
        text = text.replace(token, " ")
    return text, known, unknown


def _first_family(text: str, families: tuple[tuple[str, tuple[str, ...]], ...]) -> str | None:
    for name, words in families:
        if _mentions(text, words):
            return name
    return None


def _mentions(text: str, words: Iterable[str]) -> bool:
    """Any of ``words`` in ``text``.

    A Latin word must start a word ("eta" not in "details") but may be a stem ("anomal" in
    "anomalies"); CJK words match anywhere.
    """
    return any(
        re.search(rf"(?<![a-z0-9_]){re.escape(word)}" if word.isascii() else re.escape(word), text)
        for word in words
    )


def _aggregation(text: str, what: str | None) -> dict[str, object]:
    """Aggregation, grouping and limit from the wording; a plain list when none is asked.

    For metrics "how much" asks for a value, not a count of samples.
    """
    group: str | None = next(
        (key for key, words in lx.GROUP_WORDS.items() if _mentions(text, words)), None
    )
    if _mentions(text, lx.TREND_WORDS):
        return {"aggregation": "trend"}
    if what != "metrics" and _mentions(text, lx.COUNT_WORDS):
        counted: dict[str, object] = {"aggregation": "count"}
        return counted | ({"group_by": group} if group else {})
    return _ranking(text, group)


def _ranking(text: str, group: str | None) -> dict[str, object]:
    """Top-N ("top 3", "which node ... most"), latest ("last", "最新"), else a plain list."""
    top = _TOP_N.search(text)
    if top is not None:
        amount = top.group(1) or top.group(2)
        return {"aggregation": "top", "group_by": group or "node", "limit": cn_number(amount)}
    plural = _mentions(text, lx.WHICH_PLURAL)
    which_one = not plural and _mentions(text, lx.WHICH_ONE)
    latest = _mentions(text, lx.LATEST_WORDS)
    most = _mentions(text, lx.TOP_WORDS) and "most recent" not in text
    if which_one and most:
        return {"aggregation": "top", "group_by": group or "node", "limit": 1}
    if plural or (most and not latest):
        return {"aggregation": "top", "group_by": group or "node"}
    if latest:
        return {"aggregation": "latest"}
    return {"group_by": group} if group else {}
