"""Time phrases in English and Chinese → the ``since``/``until`` of an :class:`AskQuery`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN_DIGITS = {
    "一": 1,
    "两": 2,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_EN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
               "seven": 7, "ten": 10, "twelve": 12, "24": 24}  # fmt: skip
_EN_UNITS = {"minute": "m", "min": "m", "hour": "h", "day": "d", "week": "w"}
_CN_UNITS = {"分钟": "m", "小时": "h", "天": "d", "日": "d", "周": "w", "星期": "w"}

_EN_SPAN = re.compile(
    r"\b(?:in |over |during |for )?(?:the )?(?:last|past|previous)\s+"
    r"(\d{1,4}|an?|one|two|three|four|five|six|seven|ten|twelve)?\s*(minute|min|hour|day|week)s?\b"
)
_CN_SPAN = re.compile(
    r"(?:过去|最近|近|前)\s*(\d{1,4}|[一二两三四五六七八九十]+)?\s*个?\s*(分钟|小时|天|日|周|星期)"
)


@dataclass(frozen=True)
class TimeWords:
    """What the time phrase said, and the question with it cut out."""

    since: str
    until: str
    rest: str
    said: str  # the phrase itself, for "what I understood"


def cn_number(text: str) -> int:
    """``十二`` → 12, ``三`` → 3, ``48`` → 48 (Chinese numerals up to 99)."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0))
    return _CN_DIGITS[text]


def find_time(text: str) -> TimeWords | None:
    """The first time phrase of ``text`` (lower-cased question), or None when there is none."""
    for finder in (_fixed, _english_span, _chinese_span):
        found = finder(text)
        if found is not None:
            return found
    return None


def _cut(text: str, match: re.Match[str], since: str, until: str = "now") -> TimeWords:
    rest = text[: match.start()] + " " + text[match.end() :]
    return TimeWords(since, until, rest, match.group(0).strip())


def _english_span(text: str) -> TimeWords | None:
    match = _EN_SPAN.search(text)
    if match is None:
        return None
    amount = match.group(1)
    count = 1 if amount is None else int(amount) if amount.isdigit() else _EN_NUMBERS[amount]
    return _cut(text, match, f"{count}{_EN_UNITS[match.group(2)]}")


def _chinese_span(text: str) -> TimeWords | None:
    match = _CN_SPAN.search(text)
    if match is None:
        return None
    count = 1 if match.group(1) is None else cn_number(match.group(1))
    return _cut(text, match, f"{count}{_CN_UNITS[match.group(2)]}")


_FIXED: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        re.compile(r"\bsince yesterday\b|(?:从|自)昨天(?:开始|以来|起)?|昨天以来"),
        "yesterday",
        "now",
    ),
    (re.compile(r"\b(?:from |on )?yesterday\b|昨天|昨日"), "yesterday", "today"),
    (re.compile(r"\bthis week\b|\bthe past week\b|本周|这周|这一周"), "1w", "now"),
    (re.compile(r"\b(?:since |so far )?today\b|今天|今日"), "today", "now"),
)


def _fixed(text: str) -> TimeWords | None:
    for pattern, since, until in _FIXED:
        match = pattern.search(text)
        if match is not None:
            return _cut(text, match, since, until)
    return None
