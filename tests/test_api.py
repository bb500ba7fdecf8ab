"""The HTTP API over the real model: every endpoint, every bad input, hot swaps, a real server."""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import ROOT, SEED
from guidesearch.api import MAX_BODY_BYTES, create_app
from guidesearch.build import build_index, build_lock
from guidesearch.config import DEFAULT_MODEL, Settings
from guidesearch.errors import SettingsError
from guidesearch.ingest import read_guide
from guidesearch.service import LiveSearcher

QUESTION = "why do my calves cramp at night?"
SYMPTOMS = "Symptoms and Diagnosis of Neuropathy-Related Leg Cramps"
CAUSES = "Causes of Neuropathy-Induced Leg Cramps"       # what QUESTION, a "why", finds first
TOKEN = "test-token-0123456789abcdef"


@pytest.fixture(scope="module")
def live(seed_settings) -> LiveSearcher:
    return LiveSearcher(seed_settings)


@pytest.fixture(scope="module")
def client(seed_settings, live) -> TestClient:
    with TestClient(create_app(seed_settings, live)) as test_client:
        yield test_client


def assert_one_line_error(response: httpx.Response, status: int, *words: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"]
    error = body["error"]
    assert error and "\n" not in error and "Traceback" not in error
    for word in words:
        assert word in error, error
    return error


# --- search -------------------------------------------------------------------------------------

def test_search_answers_with_the_guides_passages_and_evidence(client):
    body = client.get("/search", params={"q": QUESTION}).json()
    assert body["covered"] is True and body["message"] == "" and body["question"] == QUESTION
    assert [hit["rank"] for hit in body["hits"]] == [1, 2, 3, 4, 5]
    assert body["hits"][0]["heading"] == CAUSES
    assert body["hits"][0]["headings"] == ["Does Neuropathy Cause Leg Cramps", CAUSES]
    assert body["hits"][0]["match"] == "strong" and {hit["match"] for hit in body["hits"][1:]} <= {"partial", "weak"}
    for hit in body["hits"]:
        assert set(hit) == {"rank", "score", "cosine", "title", "headings", "heading", "source", "text",
                            "chunk_id", "also_in", "evidence", "match"}
        assert hit["source"] == SEED.name
        assert set(hit["evidence"]) == {"text", "block", "unit"}
        assert " ".join(hit["evidence"]["text"].split()) in " ".join(hit["text"].split())


def test_search_json_is_exactly_the_search_results_to_dict(client, live):
    expected = live.searcher().search(QUESTION, top_k=3, mode="dense").to_dict()
    assert client.get("/search", params={"q": QUESTION, "k": 3, "mode": "dense"}).json() == expected


def test_a_partly_covered_message_says_which_questions_the_hits_may_answer(client, live):
    message = "Could tonic water stop my night cramps? What about leg cramps in general?"
    body = client.get("/search", params={"q": message}).json()
    assert body == live.searcher().search(message).to_dict()
    assert (body["covered"], body["answered"]) == (False, ["What about leg cramps in general?"])
    assert body["message"].endswith('the closest passages below may answer the rest of your message: "What '
                                    'about leg cramps in general?".') and body["hits"][0]["match"] == "weak"


def test_get_and_post_search_agree(client):
    got = client.get("/search", params={"q": "gabapentin", "k": 7, "mode": "dense"})
    posted = client.post("/search", json={"question": "gabapentin", "top_k": 7, "mode": "dense"})
    assert got.status_code == posted.status_code == 200
    assert got.json() == posted.json()
    assert len(got.json()["hits"]) == 7 and got.json()["hits"][0]["heading"] == "Medications"


def test_a_lone_surrogate_in_the_json_question_is_dropped_not_a_500(client):
    response = client.post("/search", content=b'{"question": "leg cramps \\ud800 at night", "top_k": 2}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert response.json()["question"] == "leg cramps at night"


def test_a_question_the_guides_do_not_answer_says_so(client):
    body = client.post("/search", json={"question": "Is pickle juice good for leg cramps?"}).json()
    assert body["covered"] is False and "pickle juice" in body["message"]
    assert len(body["hits"]) == 5


def test_a_covered_question_names_the_words_the_guides_never_use(client):
    body = client.get("/search", params={"q": "Can spinal stenosis cause leg cramps?"}).json()
    assert body["covered"] is True and body["message"] == "" and body["unmatched_terms"] == ["stenosis"]
    assert client.get("/search", params={"q": "What causes leg cramps?"}).json()["unmatched_terms"] == []


@pytest.mark.parametrize("method, target, payload, status, words", [
    ("GET", "/search?q=", None, 400, ["empty"]),
    ("GET", "/search?q=%3F!%3F", None, 400, ["only punctuation"]),
    ("POST", "/search", {"question": "   "}, 400, ["empty"]),
    ("GET", "/search", None, 422, ["q is required"]),
    ("GET", "/search?q=cramps&k=0", None, 422, ["k must be a whole number from 1 to 50", '"0"']),
    ("GET", "/search?q=cramps&k=51", None, 422, ["from 1 to 50"]),
    ("GET", "/search?q=cramps&k=five", None, 422, ["from 1 to 50", '"five"']),
    ("POST", "/search", {"question": "cramps", "top_k": 0}, 422, ["top_k must be", "from 1 to 50"]),
    ("POST", "/search", {"question": "cramps", "top_k": 51}, 422, ["from 1 to 50"]),
    ("POST", "/search", {"question": "cramps", "top_k": "5"}, 422, ["top_k must be"]),
    ("POST", "/search", {"question": "cramps", "top_k": 2.5}, 422, ["top_k must be"]),
    ("POST", "/search", {"question": "cramps", "top_k": True}, 422, ["top_k must be", "not true"]),
    ("GET", "/search?q=cramps&mode=fuzzy", None, 422, ['"fuzzy"', "dense, lexical, hybrid"]),
    ("POST", "/search", {"question": "cramps", "mode": "fuzzy"}, 422, ["dense, lexical, hybrid"]),
    ("POST", "/search", {"question": 42}, 422, ["question must be text", "a number"]),
    ("POST", "/search", {"question": None}, 422, ["question must be text", "null"]),
    ("POST", "/search", {}, 422, ["question is required"]),
    ("POST", "/search", {"question": "cramps", "topk": 3}, 422, ['Unknown field "topk"']),
    ("POST", "/search", [QUESTION], 422, ["JSON object"]),
    ("GET", "/nowhere", None, 404, ["No such endpoint", "/docs"]),
    ("DELETE", "/search", None, 405, ["not allowed: use GET or POST"]),
    ("GET", "/search?q=cramps&top_k=10", None, 422, ["Unknown parameter 'top_k'", "q (the question), k"]),
    # What int() or a query string reads leniently is refused: the last of two would win silently.
    ("GET", "/search?q=cramps&k=1_0", None, 422, ["k must be a whole number", '"1_0"']),
    ("GET", "/search?q=cramps&k=3.0", None, 422, ["k must be a whole number", '"3.0"']),
    ("GET", "/search?q=cramps&k=%203", None, 422, ["k must be a whole number", '" 3"']),
    ("GET", "/search?q=cramps&k=%EF%BC%93", None, 422, ["k must be a whole number"]),
    ("GET", "/search?q=cramps&q=stretching", None, 422, ["q is given 2 times", "one question per request"]),
    ("GET", "/search?q=cramps&k=2&k=3", None, 422, ["k is given 2 times: give it once."]),
    ("GET", "/search?q=cramps&mode=dense&mode=lexical", None, 422, ["mode is given 2 times"]),
    ("POST", "/search?k=1", {"question": "cramps"}, 422, ["takes no parameters in its address", "JSON body"]),
])
def test_bad_input_gets_a_4xx_with_one_line_saying_what_to_do(client, method, target, payload, status, words):
    assert_one_line_error(client.request(method, target, json=payload), status, *words)


def test_a_json_body_naming_a_field_twice_is_refused_not_read_as_its_last(client):
    body = '{"question": "why do my calves cramp at night?", "question": "stretching"}'
    response = client.post("/search", content=body, headers={"content-type": "application/json"})
    assert_one_line_error(response, 422, 'names "question" 2 times', "name each field once")
    assert client.get("/search?q=cramps&k=03").status_code == 200      # digits, a leading zero read as 3


def test_a_method_not_allowed_says_the_same_in_its_allow_header(client):
    assert client.put("/search").headers["allow"] == "GET, POST"


def test_the_guides_are_listed_with_their_titles_and_sections(client):
    assert client.get("/guides").json() == {"guides": [
        {"source": SEED.name, "title": "Does Neuropathy Cause Leg Cramps", "sections": 13}]}
    guide = client.get(f"/guides/{SEED.name}").json()
    assert len(guide["sections"]) == 13


def test_a_question_over_the_limit_names_the_limit(client, seed_settings):
    limit = seed_settings.max_question_chars
    long_question = "cramps " * (limit // 7 + 1)
    assert_one_line_error(client.get("/search", params={"q": long_question}), 422, str(limit))
    assert_one_line_error(client.post("/search", json={"question": long_question}), 422, str(limit))
    assert client.get("/search", params={"q": ("cramps " * limit)[:limit]}).status_code == 200


def test_malformed_json_and_other_content_types_are_refused(client):
    headers = {"content-type": "application/json"}
    assert_one_line_error(client.post("/search", content=b'{"question": ', headers=headers), 400, "not valid JSON")
    assert_one_line_error(client.post("/search", content=b"\xff\xfe", headers=headers), 400, "not valid JSON")
    for body in (b'{"question": "cr\xffamps"}', b"[" * 50_000, b'{"question": "q", "top_k": ' + b"1" * 5000 + b"}"):
        assert_one_line_error(client.post("/search", content=body, headers=headers), 400, "could not be read as JSON")
    assert_one_line_error(client.post("/search", content=b'{"question": "cramps"}',
                                      headers={"content-type": "text/plain"}), 422, "application/json")


def test_a_body_over_the_limit_is_refused_before_it_is_parsed(client):
    big = b'{"question": "' + b"a" * MAX_BODY_BYTES + b'"}'
    assert_one_line_error(client.post("/search", content=big, headers={"content-type": "application/json"}),
                          413, "64 KB")
    # Sent in pieces without a Content-Length, the body is refused as soon as it passes the limit.
    pieces = iter([b'{"question": "', *[b"a" * 8192] * 9, b'"}'])
    assert_one_line_error(client.post("/search", content=pieces, headers={"content-type": "application/json"}),
                          413, "64 KB")
    assert client.post("/search", json={"question": "cramps " * 200}).status_code == 200


# --- index, health, guides ----------------------------------------------------------------------------

def test_health_names_the_build_answering(client, live):
    body = client.get("/health").json()
    assert body == {"status": "ok", "build": live.status().build, "chunks": live.status().chunks,
                    "loading": None, "problem": None, "stale": None}
    assert body["build"].startswith("build-") and body["chunks"] > 10


def test_index_describes_the_loaded_build_and_its_freshness(client, live):
    body = client.get("/index").json()
    manifest = live.searcher().index.manifest
    assert body["build"] == live.status().build and body["built_at"] == manifest.built_at
    assert body["model"] == DEFAULT_MODEL and body["passage_precision"] in ("fp32", "bf16")
    assert body["question_backend"] == live.searcher().encoder.backend
    assert (body["guides"], body["chunks"]) == (1, live.status().chunks)
    assert body["versions"] == manifest.versions and body["versions"]["guidesearch"]
    assert body["sections"] == manifest.counts["sections"]
    assert body["freshness"] == {"fresh": True, "added": [], "changed": [], "removed": [], "settings": [],
                                 "problem": None, "description": "The index is up to date."}


MANAGEMENT = "Management and Treatment Strategies"


def test_guide_sections_come_in_reading_order(client, seed_settings):
    body = client.get(f"/guides/{SEED.name}").json()
    guide = read_guide(SEED, SEED.name, seed_settings.max_file_bytes)
    assert body["source"] == SEED.name and body["title"] == "Does Neuropathy Cause Leg Cramps"
    # The one section that only leads in to its subsections opens the first of them.
    assert [section["headings"] for section in body["sections"]] == \
        [list(section.headings) for section in guide.sections if section.heading != MANAGEMENT]
    assert " ".join(section["text"] for section in body["sections"]).split() == \
        " ".join(section.text for section in guide.sections).split()


@pytest.mark.parametrize("path", ["/guides/../etc/passwd", "/guides/%2E%2E/etc/passwd", "/guides/..%2Fcorpus",
                                  "/guides/nope.txt", "/guides/"])
def test_a_guide_outside_the_index_is_404(client, path):
    assert_one_line_error(client.get(path), 404)


def test_a_guide_whose_file_name_holds_a_line_break_is_served_by_its_source(tmp_path, encoder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zebra\nstripes.md").write_text(ZEBRA, encoding="utf-8")
    settings = Settings.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", model_name=DEFAULT_MODEL)
    build_index(settings, encoder)
    with TestClient(create_app(settings, LiveSearcher(settings))) as api:
        source = api.get("/search", params={"q": "zebra stripe therapy"}).json()["hits"][0]["source"]
        assert source == "zebra\nstripes.md"
        guide = api.get("/guides/" + quote(source))
        assert guide.status_code == 200, guide.text
        assert guide.json()["title"] == "Zebra Stripe Therapy"


def test_the_api_is_documented_with_examples(client):
    schema = client.get("/openapi.json").json()
    assert {"/search", "/health", "/index", "/guides", "/guides/{source}"} <= set(schema["paths"])
    assert "/rebuild" not in schema["paths"]         # off without a token
    search = schema["components"]["schemas"]["SearchOut"]
    assert search["examples"][0]["hits"][0]["heading"] == SYMPTOMS
    assert set(search["properties"]) == {"question", "covered", "missing_terms", "passing_terms", "truncated", "message",
                                         "focus", "related_terms", "answered", "unmatched_terms", "spelling",
                                         "hits"}
    for path, method in (("/search", "get"), ("/guides/{source}", "get")):
        assert schema["paths"][path][method]["responses"]["422"]["content"]["application/json"]["schema"] \
            == {"$ref": "#/components/schemas/ErrorOut"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for page in ("/docs", "/redoc"):     # served from files in a package: no internet needed
        html = client.get(page)
        assert html.status_code == 200 and "cdn." not in html.text and "http" not in html.text.split("<body")[0]
        scripts = re.findall(r'<script src="([^"]+)"', html.text)
        assert scripts and all(client.get(src).status_code == 200 for src in scripts)


# --- safety ---------------------------------------------------------------------------------------

def test_rebuild_is_off_without_a_token_and_needs_the_right_one(client, seed_settings, live):
    assert_one_line_error(client.post("/rebuild"), 404, "GUIDESEARCH_ADMIN_TOKEN")
    with TestClient(create_app(seed_settings.with_(admin_token=TOKEN), live)) as admin:
        assert_one_line_error(admin.post("/rebuild"), 401, "Authorization: Bearer")
        wrong = admin.post("/rebuild", headers={"Authorization": f"Bearer {TOKEN}x"})
        assert_one_line_error(wrong, 401)
        assert wrong.headers["www-authenticate"] == "Bearer"
        assert_one_line_error(admin.post("/rebuild", headers={"Authorization": f"Basic {TOKEN}"}), 401)
        assert "/rebuild" in admin.get("/openapi.json").json()["paths"]
        # While another build runs: no command-line advice, and when to try again.
        with build_lock(seed_settings.index_dir):
            locked = admin.post("/rebuild", headers={"Authorization": f"Bearer {TOKEN}"})
        assert_one_line_error(locked, 409, "Try again when it has finished")
        assert "--wait" not in locked.json()["error"] and locked.headers["retry-after"] == "30"


def test_cors_is_off_by_default_and_on_for_configured_origins(client, seed_settings, live):
    origin = {"Origin": "https://guides.example.org"}
    assert "access-control-allow-origin" not in client.get("/health", headers=origin).headers
    settings = seed_settings.with_(cors_origins=("https://guides.example.org",))
    with TestClient(create_app(settings, live)) as browser:
        assert browser.get("/health", headers=origin).headers["access-control-allow-origin"] == origin["Origin"]
        preflight = browser.options("/search", headers={**origin, "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]
        refused = browser.options("/search", headers={**origin, "Access-Control-Request-Method": "DELETE"})
        assert refused.status_code == 400
        head = browser.options("/health", headers={**origin, "Access-Control-Request-Method": "HEAD"})
        assert head.status_code == 200 and "HEAD" in head.headers["access-control-allow-methods"]
        assert browser.head("/health", headers=origin).headers["access-control-allow-origin"] == origin["Origin"]
        other = browser.get("/health", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in other.headers


def test_server_settings_come_from_the_environment_and_are_checked(monkeypatch):
    monkeypatch.setenv("GUIDESEARCH_CORS_ORIGINS", "https://a.example.org, http://localhost:3000,")
    monkeypatch.setenv("GUIDESEARCH_ADMIN_TOKEN", TOKEN)
    settings = Settings.from_env()
    assert settings.cors_origins == ("https://a.example.org", "http://localhost:3000")
    assert settings.admin_token == TOKEN and TOKEN not in repr(settings)
    with pytest.raises(SettingsError, match="scheme and host"):
        Settings(cors_origins=("https://a.example.org/path",))
    with pytest.raises(SettingsError, match="at least 16") as raised:
        Settings(admin_token="short")
    assert "short" not in str(raised.value)


def test_a_bug_answers_500_in_one_line_and_logs_the_traceback(seed_settings, live, caplog):
    class BrokenLive:
        def searcher(self):
            raise RuntimeError("secret internals\nTraceback (most recent call last)")

    with TestClient(create_app(seed_settings, BrokenLive())) as broken:
        error = assert_one_line_error(broken.get("/search", params={"q": "cramps"}), 500, "unexpected", "server log")
    assert "secret" not in error
    assert "secret internals" in caplog.text and "RuntimeError" in caplog.text


def test_a_burst_past_the_queue_gets_503_with_retry_after(seed_settings, live):
    gate = threading.Event()

    class SlowSearcher:     # every search waits for the gate: one runs, one waits, the third is refused
        def search(self, *args, **kwargs):
            gate.wait(30)
            return live.searcher().search(*args, **kwargs)

    class SlowLive:
        def searcher(self):
            return SlowSearcher()

        def __getattr__(self, name):
            return getattr(live, name)

    app = create_app(seed_settings, SlowLive(), search_threads=1, max_waiting=1)

    async def burst():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api:
            held = [asyncio.create_task(api.get("/search", params={"q": "cramps"})) for _ in range(2)]
            await asyncio.sleep(0.3)
            refused = await api.get("/search", params={"q": "cramps"})
            health = await api.get("/health")       # health never waits for the search threads
            gate.set()
            return refused, health, await asyncio.gather(*held)

    try:
        refused, health, held = asyncio.run(burst())
    finally:
        gate.set()
    assert_one_line_error(refused, 503, "busy, retry in a moment")
    assert refused.headers["retry-after"] == "1"
    assert health.status_code == 200
    assert [response.status_code for response in held] == [200, 200]


# --- hot swap ---------------------------------------------------------------------------------------

ZEBRA = "# Zebra Stripe Therapy\n\n## How It Works\n\nZebra stripe therapy paints calves with stripes.\n"
OKAPI = "# Okapi Stretching\n\n## The Stretch\n\nThe okapi stretch lengthens the calf muscle slowly.\n"


def test_a_rebuild_is_answered_without_a_restart_and_a_damaged_one_is_not(tmp_path, encoder, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    settings = Settings.from_env(corpus_dir=corpus, index_dir=tmp_path / "index", model_name=DEFAULT_MODEL,
                                 admin_token=TOKEN)
    build_index(settings, encoder)
    live = LiveSearcher(settings)
    with TestClient(create_app(settings, live)) as api:
        first = api.get("/health").json()["build"]

        # A guide added: /health says the answers may be out of date, until the rebuild.
        monkeypatch.setattr("guidesearch.service.STALE_SECONDS", 0.0)      # looked at again at once
        (corpus / "zebra.md").write_text(ZEBRA, encoding="utf-8")
        assert "1 added guide file(s)" in api.get("/health").json()["stale"]
        # A rebuild by another process: answered from as soon as it is loaded.
        build_index(settings, encoder)
        live.refresh(wait=True)
        second = api.get("/health").json()
        assert second["build"] != first and second["problem"] is None and second["stale"] is None
        hit = api.get("/search", params={"q": "zebra stripe therapy"}).json()["hits"][0]
        assert (hit["source"], hit["heading"]) == ("zebra.md", "How It Works")
        assert api.get("/index").json()["guides"] == 2

        # POST /rebuild, with the test's encoder instead of loading another copy of the model.
        monkeypatch.setattr("guidesearch.embed.passage_encoder", lambda _settings: encoder)
        (corpus / "okapi.md").write_text(OKAPI, encoding="utf-8")
        assert "1 added guide file(s)" in api.get("/health").json()["stale"]
        monkeypatch.setattr("guidesearch.service.STALE_SECONDS", 3600.0)     # the note stays, unless a build clears it
        rebuilt = api.post("/rebuild", headers={"Authorization": f"Bearer {TOKEN}"})
        assert rebuilt.status_code == 200, rebuilt.text
        third = rebuilt.json()
        assert "1 added" in third["summary"] and third["build"] != second["build"] and third["problem"] is None
        # Adversarial testing: the new build with the old build's note, for up to 30 s.
        assert api.get("/health").json()["build"] == third["build"] and api.get("/health").json()["stale"] is None
        assert api.get("/search", params={"q": "okapi stretch"}).json()["hits"][0]["source"] == "okapi.md"

        # A damaged build named by CURRENT: the good one keeps answering, and /health says why.
        damaged = settings.index_dir / "build-damaged"
        shutil.copytree(settings.index_dir / third["build"], damaged)
        records = damaged / "chunks.jsonl"
        data = bytearray(records.read_bytes())
        data[10] = ord("X") if data[10] != ord("X") else ord("Y")
        records.write_bytes(bytes(data))
        (settings.index_dir / "CURRENT").write_text("build-damaged\n", encoding="utf-8")
        live.refresh(wait=True)
        health = api.get("/health").json()
        assert health["build"] == third["build"]
        assert "build-damaged" in health["problem"] and "previous one still answers" in health["problem"]
        # Its advice builds this index, not the default one (found by adversarial testing).
        assert f"build_index.py --corpus {settings.corpus_dir} --index {settings.index_dir}" in health["problem"]
        assert api.get("/search", params={"q": "okapi stretch"}).json()["hits"][0]["source"] == "okapi.md"

        # CURRENT back on the build answering: no problem any more.
        (settings.index_dir / "CURRENT").write_text(third["build"] + "\n", encoding="utf-8")
        live.refresh(wait=True)
        assert api.get("/health").json()["problem"] is None


def test_the_build_command_names_the_folders_that_are_not_the_defaults(tmp_path):
    assert Settings().build_command == "python build_index.py"
    assert Settings(model_name="org/other-model").build_command == "python build_index.py --model org/other-model"
    assert Settings(index_dir=tmp_path / "my index").build_command == \
        f"python build_index.py --index '{tmp_path / 'my index'}'"


# --- a real server -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_head_is_answered_as_get_without_a_body(client):
    for path in ("/health", "/index", "/guides", "/search?q=cramps", "/docs", "/openapi.json"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b"" and head.headers["content-length"] == str(len(got.content)), path
    assert client.head("/nothing-here").status_code == 404
    empty = client.head("/search?q=%3F")       # an error: the status says it, without the one-line body
    assert empty.status_code == 400 and empty.content == b""
    refused = client.head("/rebuild")
    assert refused.status_code == 405 and refused.headers["allow"] == "POST" and refused.content == b""
    assert not [path for path, item in client.get("/openapi.json").json()["paths"].items() if "head" in item]


def test_the_real_server_answers_over_http(seed_settings, tmp_path):
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "guidesearch", "serve", "--port", str(port),
                               "--index", str(seed_settings.index_dir), "--corpus", str(seed_settings.corpus_dir)],
                              cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not answer /health within 120 s"
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        answer = httpx.get(f"{base}/search", params={"q": QUESTION, "k": 3}, timeout=30)
        assert answer.status_code == 200
        assert answer.json()["hits"][0]["heading"] == CAUSES
        assert_one_line_error(httpx.get(f"{base}/search", params={"q": "?"}, timeout=30), 400)
        head = httpx.head(f"{base}/health", timeout=30)      # what an uptime monitor asks
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"] == "application/json"
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    assert f"API documentation at http://127.0.0.1:{port}/docs" in (tmp_path / "server.log").read_text()


def test_serve_without_an_index_fails_in_one_line_before_serving(tmp_path):
    done = subprocess.run([sys.executable, "-m", "guidesearch", "serve", "--port", str(free_port()),
                           "--index", str(tmp_path / "index"), "--corpus", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr == (f"error: No index in {tmp_path / 'index'}. Build it with: python build_index.py "
                           f"--corpus {tmp_path} --index {tmp_path / 'index'}\n")


def test_mcp_without_an_index_fails_in_one_line_before_serving(tmp_path):
    done = subprocess.run([sys.executable, "-m", "guidesearch", "mcp", "--index", str(tmp_path / "index"),
                           "--corpus", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (f"error: No index in {tmp_path / 'index'}. Build it with: python build_index.py "
                           f"--corpus {tmp_path} --index {tmp_path / 'index'}\n")


def test_serve_on_a_port_in_use_fails_in_one_line_before_loading_the_model(seed_settings):
    """Found by adversarial testing: uvicorn's own log line and exit 3, after the model loaded."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "guidesearch", "serve", "--port", str(port),
                               "--index", str(seed_settings.index_dir), "--corpus", str(seed_settings.corpus_dir)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (f"error: Cannot listen on 127.0.0.1:{port} (Address already in use). "
                                            "Choose another --port, or stop the program that uses it.")
    assert "Loading" not in done.stderr


def test_serve_on_an_unknown_host_fails_in_one_line(seed_settings):
    done = subprocess.run([sys.executable, "-m", "guidesearch", "serve", "--host", "999.1.1.1", "--index",
                           str(seed_settings.index_dir), "--corpus", str(seed_settings.corpus_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith("error: Cannot listen on 999.1.1.1: not a host name or address")


def test_serve_on_port_0_logs_the_port_the_system_chose(seed_settings, tmp_path):
    """Found by adversarial testing: it logged http://127.0.0.1:0/docs."""
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "guidesearch", "serve", "--port", "0", "--index",
                               str(seed_settings.index_dir), "--corpus", str(seed_settings.corpus_dir)],
                              cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while "API documentation at" not in (tmp_path / "server.log").read_text():
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.5)
        port = int((tmp_path / "server.log").read_text().split("API documentation at http://127.0.0.1:")[1].split("/")[0])
        assert port > 0
        while True:
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
                break
            except httpx.TransportError:
                time.sleep(0.5)
        server.send_signal(signal.SIGINT)       # Ctrl-C: a clean stop, not an error (found by review)
        assert server.wait(30) == 0
        logged = (tmp_path / "server.log").read_text()
        assert "error:" not in logged
        assert "Could not load library" not in logged       # faiss's start-up INFO lines read as errors
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def test_every_address_of_the_host_is_served_on_one_port(monkeypatch):
    """Found by review: with ::1 first for localhost (Debian's /etc/hosts), only ::1 was bound,
    and http://127.0.0.1 was refused; uvicorn.run bound them all."""
    from guidesearch import api
    real = socket.getaddrinfo
    both = real("::1", 0, type=socket.SOCK_STREAM)[:1] + real("127.0.0.1", 0, type=socket.SOCK_STREAM)[:1]
    monkeypatch.setattr(api.socket, "getaddrinfo", lambda host, port, **kwargs: both)
    bound = api.listen("localhost", 0)
    try:
        names = [listening.getsockname() for listening in bound]
        assert [name[0] for name in names] == ["::1", "127.0.0.1"]
        assert len({name[1] for name in names}) == 1 and names[0][1] > 0
    finally:
        for listening in bound:
            listening.close()


def test_a_second_server_on_the_same_port_is_refused_at_once():
    """Found by review: bound but not listening, two servers started together both passed the
    check, and the second failed after loading the model with a traceback."""
    from guidesearch import api
    from guidesearch.errors import ServeError
    first = api.listen("127.0.0.1", 0)
    try:
        port = first[0].getsockname()[1]
        with pytest.raises(ServeError, match=rf"Cannot listen on 127.0.0.1:{port} \(Address already in use\)\. "
                                             "Choose another --port"):
            api.listen("127.0.0.1", port)
    finally:
        first[0].close()


def test_an_address_not_of_this_machine_says_which_host_to_give():
    from guidesearch import api
    from guidesearch.errors import ServeError
    with pytest.raises(ServeError, match="not an address of this machine: give --host 127.0.0.1"):
        api.listen("10.99.99.99", 0)
    assert api.url_host("::1") == "[::1]" and api.url_host("127.0.0.1") == "127.0.0.1"
