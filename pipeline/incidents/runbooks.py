"""YAML runbooks: rules that map incidents to one catalogue action, validated with line numbers.

A runbook is checked in full when it is loaded (and by ``fleetwatch runbooks check FILE``); every
problem is reported as ``FILE:LINE: field.path: message`` so an operator can jump to it.

Examples
--------
>>> book = parse_runbook('''
... version: 1
... rules:
...   - name: runaway-cpu
...     match: {diagnosis: cpu_saturation, kind: host}
...     action: {type: stop_process, params: {pattern: "^{culprit}$", top: cpu}}
...   - name: busy-by-metric
...     match: {metric: "cpu.usage_user", direction: up, severity: [critical]}
...     action: {type: stop_process, params: {top: cpu}}
... ''')
>>> [rule.action.type for rule in book.rules]
['stop_process', 'stop_process']
>>> parse_runbook('''
... version: 1
... rules:
...   - name: wrong-way
...     match: {metric: "cpu.usage_user", direction: down}
...     action: {type: stop_process, params: {top: cpu}}
... ''')
Traceback (most recent call last):
...
pipeline.errors.RunbookError: <runbook>:5: rules[0].match.direction: stop_process lowers use, ...
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from pipeline.control.catalogue import ActionParams, parse_params
from pipeline.errors import RunbookError
from pipeline.incidents.runbook_params import SAMPLE_VALUES, fill, needs_of, placeholders_of
from pipeline.incidents.runbook_safety import direction_problems, unit_problems
from pipeline.models import Incident, KindName, MetricName, Severity

Loc = tuple[str | int, ...]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleMatch(_Strict):
    """Which incidents a rule applies to; every given condition must hold.

    ``diagnosis`` matches the incident's diagnosed kind (at ``min_confidence`` or more; the
    abstaining ``unknown`` at any confidence). Otherwise a metric in the incident must match the
    ``metric`` glob and have moved in ``direction``.
    """

    metric: str = "*"
    direction: Literal["up", "down"] | None = None
    diagnosis: Annotated[list[KindName], BeforeValidator(_as_list)] | None = None
    min_confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    severity: Annotated[list[Severity], BeforeValidator(_as_list)] = ["warning", "critical"]
    labels: dict[str, str] = Field(default_factory=dict)
    kind: Literal["host", "fleet", "any"] = "any"


class RuleAction(_Strict):
    """The catalogue action and its parameters (checked against the catalogue on load)."""

    type: str
    params: dict[str, Any] = Field(default_factory=dict)


class RuleVerify(_Strict):
    """The metric to re-read after acting and the level it must fall below."""

    metric: MetricName
    below: float


class Rule(_Strict):
    """One runbook rule."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    match: RuleMatch = Field(default_factory=RuleMatch)
    action: RuleAction
    verify: RuleVerify | None = None
    approval: Literal["auto", "required"] = "auto"
    owner: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")] | None = None

    def params_for(self, incident: Incident) -> ActionParams:
        """The action's typed parameters with ``{culprit}``, ``{unit}``, ``{change}``... filled.

        Raises
        ------
        KeyError
            When the incident lacks a value a placeholder needs (``matches`` says False then).
        """
        values = placeholders_of(incident)
        return parse_params(self.action.type, fill(self.action.params, values))

    def matches(self, incident: Incident) -> bool:
        """Whether this rule applies to ``incident`` (and can fill its placeholders)."""
        rule = self.match
        labels = incident.labels | incident.group
        return (
            rule.kind in ("any", incident.kind)
            and incident.severity in rule.severity
            and all(fnmatch.fnmatchcase(labels.get(k, ""), v) for k, v in rule.labels.items())
            and (self._diagnosed(incident) if rule.diagnosis else self._moved(incident))
            and needs_of(self.action.params) <= placeholders_of(incident).keys()
        )

    def _diagnosed(self, incident: Incident) -> bool:
        found = incident.diagnosis
        return (
            found is not None
            and found.kind in (self.match.diagnosis or ())
            and (found.kind == "unknown" or found.confidence >= self.match.min_confidence)
        )

    def _moved(self, incident: Incident) -> bool:
        wanted = self.match.direction
        return any(
            fnmatch.fnmatchcase(m, self.match.metric)
            and (wanted is None or incident.directions.get(m) == wanted)
            for m in incident.metrics
        )


class Runbook(_Strict):
    """An ordered list of rules; the first matching rule wins."""

    version: Literal[1]
    rules: Annotated[list[Rule], Field(min_length=1, max_length=500)]

    def match_one(self, incident: Incident) -> Rule | None:
        """The first rule that applies to ``incident``, or None."""
        return next((rule for rule in self.rules if rule.matches(incident)), None)


def load_runbook(path: Path) -> Runbook:
    """Read and validate a runbook file.

    Raises
    ------
    RunbookError
        Naming file, line and field of every problem.
    """
    try:
        text = path.read_text()
    except OSError as exc:
        raise RunbookError([f"{path}: cannot read: {exc.strerror}"]) from None
    return parse_runbook(text, str(path))


def parse_runbook(text: str, source: str = "<runbook>") -> Runbook:
    """Validate runbook YAML ``text``; ``source`` names it in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise RunbookError([f"{source}:{line}: YAML: {exc.problem}"]) from None
    if root is None:
        raise RunbookError([f"{source}:1: <root>: the runbook is empty"])
    data = _to_python(root, source)
    problems = _check_actions(data, root, source)
    try:
        book = Runbook.model_validate(data)
    except ValidationError as exc:
        problems = _problems(exc, (), root, source) + problems
    if problems:
        raise RunbookError(problems)
    return book


def _check_actions(data: Any, root: yaml.Node, source: str) -> list[str]:
    """Each rule's action against the catalogue, even when other fields are wrong too."""
    rules = data.get("rules") if isinstance(data, dict) else None
    problems: list[str] = []
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        action = rule.get("action") if isinstance(rule, dict) else None
        if not isinstance(action, dict) or not isinstance(action.get("type"), str):
            continue  # the model reports the missing or mistyped action itself
        params = action.get("params", {})
        base: Loc = ("rules", index, "action")
        problems += [
            _problem(source, root, ("rules", index, *path), message)
            for path, message in [*direction_problems(rule), *unit_problems(rule)]
        ]
        try:
            sample = fill(params, SAMPLE_VALUES) if isinstance(params, dict) else {}
            parse_params(action["type"], sample)
        except ValidationError as exc:
            problems += _problems(exc, (*base, "params"), root, source)
        except ValueError as exc:
            problems.append(_problem(source, root, (*base, "type"), str(exc)))
    return problems


def _problems(exc: ValidationError, prefix: Loc, root: yaml.Node, source: str) -> list[str]:
    return [
        _problem(source, root, (*prefix, *err["loc"]), err["msg"])
        for err in exc.errors(include_url=False)
    ]


def _problem(source: str, root: yaml.Node, loc: Loc, message: str) -> str:
    field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    return f"{source}:{_line_of(root, loc)}: {field or '<root>'}: {message}"


def _line_of(node: yaml.Node, loc: Loc) -> int:
    """1-based line of the deepest node ``loc`` reaches (a missing key → its parent's line)."""
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
        return next((value for key, value in pairs if key.value == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        items: list[yaml.Node] = node.value
        return items[part]
    return None


def _to_python(node: yaml.Node, source: str) -> Any:
    """Build plain data from the node tree, refusing duplicate keys (YAML keeps the last)."""
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _to_python(key_node, source)
            if key in result:
                line = key_node.start_mark.line + 1
                raise RunbookError([f"{source}:{line}: {key}: duplicate key"])
            result[key] = _to_python(value_node, source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, source) for item in node.value]
    return yaml.SafeLoader("").construct_object(node, deep=True)
