"""Optional: an OpenAI-compatible chat endpoint fills the typed query; the model is never trusted.

The reply must be one JSON object valid as :class:`AskQuery` and naming only nodes and metrics
the store holds; it is then run by the same code as a parsed question. No Flux, no shell, ever
comes from the model. Off unless ``--llm-url`` is given.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from pydantic import ValidationError

from pipeline.ask.model import AskQuery
from pipeline.ask.parse import closest_questions
from pipeline.ask.vocabulary import Vocabulary
from pipeline.errors import AskNotUnderstood

_TIMEOUT_S = 30.0
_PROMPT = (
    "Turn the operator's question about a Linux fleet into ONE JSON object, nothing else, "
    "valid against this JSON Schema:\n{schema}\nKnown nodes: {nodes}\nKnown roles: {roles}\n"
    "Known metrics (families like mem.* allowed): {metrics}\n"
    "Diagnosis kinds: cpu_saturation, memory_leak, memory_pressure, disk_full, io_saturation, "
    "network_degradation, load_spike, process_crash, fd_exhaustion, bad_change, app_errors."
)


def llm_query(question: str, vocabulary: Vocabulary, url: str, model: str = "default") -> AskQuery:
    """Ask the endpoint at ``url`` (``.../v1/chat/completions``) to fill an :class:`AskQuery`.

    Raises
    ------
    AskNotUnderstood
        When the endpoint fails, or its reply is not a valid query over known names.
    """
    body = {"model": model, "temperature": 0,
            "messages": [{"role": "system", "content": _system_prompt(vocabulary)},
                         {"role": "user", "content": question}]}  # fmt: skip
    reply = _post(url, body)
    try:
        content = str(reply["choices"][0]["message"]["content"])
        query = AskQuery.model_validate_json(_strip_fence(content))
    except (KeyError, IndexError, TypeError, ValidationError) as exc:
        raise _refused(question, f"the LLM's reply is not a valid query: {_short(exc)}") from None
    _check_names(query, vocabulary, question)
    return query


def _system_prompt(vocabulary: Vocabulary) -> str:
    schema = json.dumps(AskQuery.model_json_schema(), separators=(",", ":"))
    return _PROMPT.format(schema=schema, nodes=", ".join(vocabulary.nodes),
                          roles=", ".join(vocabulary.roles),
                          metrics=", ".join(vocabulary.metrics))  # fmt: skip


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise _refused("", f"--llm-url {url!r} is not an http(s) URL")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:  # noqa: S310
            parsed: dict[str, Any] = json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise _refused("", f"the LLM at {url} did not answer: {_short(exc)}") from None
    return parsed


def _check_names(query: AskQuery, vocabulary: Vocabulary, question: str) -> None:
    """Only names the store holds: a model's invention is refused, not run."""
    unknown = [n for n in query.nodes if n not in vocabulary.nodes]
    unknown += [r for r in query.roles if r not in vocabulary.roles]
    unknown += [m for m in query.metrics if not vocabulary.expand((m,))]
    if unknown:
        raise _refused(question, f"the LLM named what the store does not hold: {unknown}")


def _strip_fence(content: str) -> str:
    """Models often wrap JSON in a ``` fence; only that wrapping is removed."""
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text.strip()


def _refused(question: str, problem: str) -> AskNotUnderstood:
    return AskNotUnderstood(
        problem, {"via": "llm"}, closest_questions(question) if question else []
    )


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
