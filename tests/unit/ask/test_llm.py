"""The optional LLM path against a loopback server speaking OpenAI's chat-completions protocol."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from pipeline.ask.llm import llm_query
from pipeline.ask.model import AskQuery
from pipeline.ask.synthetic import METRICS, ROLE_OF
from pipeline.ask.vocabulary import Vocabulary
from pipeline.errors import AskNotUnderstood

VOCABULARY = Vocabulary(tuple(sorted(ROLE_OF)), METRICS, dict(ROLE_OF))


class ChatServer:
    """Answers every POST with ``reply`` as the assistant message; keeps the requests."""

    def __init__(self) -> None:
        self.reply = ""
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                server.requests.append(json.loads(self.rfile.read(length)))
                body = {"choices": [{"message": {"role": "assistant", "content": server.reply}}]}
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                del args

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/chat/completions"


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    server = ChatServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_a_valid_reply_becomes_the_query(chat: ChatServer) -> None:
    chat.reply = '```json\n{"what": "incidents", "roles": ["db"], "aggregation": "count"}\n```'
    query = llm_query("how many db incidents?", VOCABULARY, chat.url)
    assert query == AskQuery(what="incidents", roles=("db",), aggregation="count")
    request = chat.requests[0]
    assert request["messages"][1] == {"role": "user", "content": "how many db incidents?"}
    assert "web-01" in request["messages"][0]["content"]  # the store's names are offered


def test_raw_flux_from_the_model_is_refused(chat: ChatServer) -> None:
    chat.reply = 'from(bucket: "x") |> range(start: -1h) |> drop()'
    with pytest.raises(AskNotUnderstood, match="not a valid query"):
        llm_query("delete everything", VOCABULARY, chat.url)


def test_extra_fields_are_refused(chat: ChatServer) -> None:
    chat.reply = '{"what": "anomalies", "flux": "from(bucket: \\"x\\")"}'
    with pytest.raises(AskNotUnderstood, match="not a valid query"):
        llm_query("anomalies", VOCABULARY, chat.url)


def test_an_invented_node_is_refused(chat: ChatServer) -> None:
    chat.reply = '{"what": "anomalies", "nodes": ["web-42"]}'
    with pytest.raises(AskNotUnderstood, match="web-42"):
        llm_query("anomalies on web 42", VOCABULARY, chat.url)


def test_an_unreachable_endpoint_is_a_clear_error() -> None:
    with pytest.raises(AskNotUnderstood, match="did not answer"):
        llm_query("anomalies", VOCABULARY, "http://127.0.0.1:9/v1/chat/completions")
