#!/usr/bin/env python3
"""Tests of `mambacl serve` on the bundled model, over loopback only.

Phases (all by default):
  client  the official `openai` Python client (installed from PyPI into a
          venv under the build directory, reused between runs; a failed
          install FAILS the test): completions with and without streaming,
          greedy text == `mambacl run --greedy`, seeds, stop strings, usage
  http    curl; status codes and error bodies (400/401/404/405/413/503), chat
          refusal, tokenize/detokenize, metrics, a client that disconnects
          mid-stream, SIGTERM with a stream in flight (exit 0, bounded)
  batch   16 concurrent streaming clients, each equal to its request alone;
          a prompt of many prefill chunks beside running streams == `mambacl run`
  fuzz    >= 1000 mixed good and bad requests (malformed JSON, huge numbers,
          wrong types, invalid UTF-8, dropped connections): every well-formed
          one answered correctly, every bad one a JSON 4xx, the server up
          (tools/test.sh also runs this phase on the ASan+UBSan build)
Every loop is bounded in count and in time. Exit 0 when all pass.
"""
import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.environ.get("MAMBACL_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = os.path.join(ROOT, "models", "shakespeare-mamba")
API_KEY = "test-key-123"
DEADLINE = time.monotonic() + 540  # the whole script, below meson's timeout

PROMPTS = ["ROMEO:", "JULIET: O", "First Citizen:\nBefore we proceed", "KING", "To be, or not",
           "MENENIUS:\nWhat work's, my countrymen, in hand?", "A", "O, what a", "Now is the winter",
           "HAMLET:", "Friends, Romans", "LADY MACBETH:\nOut, damned", "The quality of mercy", "What",
           "GLOUCESTER:\nNow is the winter of our discontent", "Be not afraid"]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def left(what):
    if time.monotonic() > DEADLINE:
        raise AssertionError("time limit reached during " + what)


class Server:
    """A `mambacl serve` process on a free loopback port."""

    def __init__(self, binary, *extra, env=None):
        args = [binary, "serve", "-m", MODEL, "--port", "0", *extra]
        self.p = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True)
        self.log = []
        self.port = None
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120:
            line = self.p.stderr.readline()
            if not line:
                break
            self.log.append(line)
            if "listening on http://127.0.0.1:" in line:
                self.port = int(line.split("127.0.0.1:")[1].split()[0])
                break
        check(self.port, "server did not start: " + "".join(self.log))
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self):
        for line in self.p.stderr:
            self.log.append(line)

    def alive(self):
        return self.p.poll() is None

    def stop(self, limit=20.0):
        """SIGTERM; the server must exit 0 within `limit` seconds."""
        if not self.alive():
            return self.p.returncode
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(limit)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError("server did not stop within %.0f s of SIGTERM" % limit)
        self.reader.join(5)
        check(rc == 0, "server exited %d after SIGTERM: %s" % (rc, "".join(self.log[-20:])))
        return rc

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, headers, body bytes) of one request on a fresh connection."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            h = {"Content-Type": "application/json"}
            h.update(headers or {})
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def post(self, path, body, key=None, **kw):
        h = {"Authorization": "Bearer " + key} if key else {}
        return self.request("POST", path, body, headers=h, **kw)

    def metrics(self, key=None):
        h = {"Authorization": "Bearer " + key} if key else {}
        st, _, body = self.request("GET", "/metrics", headers=h)
        check(st == 200, "/metrics answered %d" % st)
        out = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, val = line.rsplit(" ", 1)
                out[name] = float(val)
        return out


def run_greedy(binary, prompt, n):
    """`mambacl run --greedy` text for prompt (without the echoed prompt)."""
    out = subprocess.run([binary, "run", "-m", MODEL, "-p", prompt, "-n", str(n), "--greedy", "--quiet",
                          "--no-echo"], capture_output=True, timeout=120)
    check(out.returncode == 0, "mambacl run failed: " + out.stderr.decode())
    text = out.stdout.decode()
    check(text.endswith("\n"), "run output does not end with a newline")
    return text[:-1]


def sse_events(raw):
    """The JSON payloads of an SSE body, and whether it ended with [DONE]."""
    events, done = [], False
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        check(block.startswith("data: "), "SSE block without 'data: ': %r" % block[:80])
        data = block[6:]
        if data == "[DONE]":
            done = True
        else:
            check(not done, "event after [DONE]")
            events.append(json.loads(data))
    return events, done


def stream_text(srv, body, key=None):
    """Text and finish reason of a streamed completion over raw HTTP."""
    st, hdr, raw = srv.post("/v1/completions", dict(body, stream=True), key=key)
    check(st == 200, "stream answered %d: %r" % (st, raw[:200]))
    check(hdr.get("Content-Type", "").startswith("text/event-stream"), "stream content type")
    events, done = sse_events(raw)
    check(done, "stream did not end with [DONE]")
    check(all("error" not in e for e in events), "error event in stream: %r" % events[-1:])
    text = "".join(c["text"] for e in events for c in e["choices"])
    finishes = [c["finish_reason"] for e in events for c in e["choices"] if c["finish_reason"]]
    check(len(finishes) == 1, "one finish_reason expected, got %r" % finishes)
    return text, finishes[0]


# ---- phase: the openai client ------------------------------------------------------

def ensure_venv(venv):
    """A venv with the openai package; raises (the test fails) when it cannot be made."""
    py = os.path.join(venv, "bin", "python")
    ok = os.path.exists(py) and subprocess.run([py, "-c", "import openai"], capture_output=True).returncode == 0
    if ok:
        return py
    r = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "python -m venv failed: " + r.stderr)
    r = subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "openai"],
                       capture_output=True, text=True, timeout=400)
    check(r.returncode == 0, "pip install openai failed (PyPI needed):\n" + r.stdout + r.stderr)
    return py


def phase_client_inner(port, binary):
    """Runs inside the venv's python: the openai client against the server."""
    import openai
    c = openai.OpenAI(base_url="http://127.0.0.1:%d/v1" % port, api_key=API_KEY, max_retries=0, timeout=120)
    models = c.models.list()
    name = models.data[0].id
    check(name == "shakespeare-mamba", "model id %r" % name)
    for prompt, n in [("ROMEO:", 48), ("First Citizen:\nBefore we proceed", 33)]:
        want = run_greedy(binary, prompt, n)
        r = c.completions.create(model=name, prompt=prompt, max_tokens=n, temperature=0)
        got = r.choices[0].text
        check(got == want, "greedy %r: server %r != run %r" % (prompt, got, want))
        check(r.choices[0].finish_reason in ("length", "stop"), "finish_reason %r" % r.choices[0].finish_reason)
        check(r.usage.completion_tokens <= n and r.usage.prompt_tokens > 0, "usage %r" % r.usage)
        check(r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, "usage total")
        parts, finish, usage = [], None, None
        for ch in c.completions.create(model=name, prompt=prompt, max_tokens=n, temperature=0, stream=True,
                                       stream_options={"include_usage": True}):
            if ch.usage:
                usage = ch.usage
            for choice in ch.choices:
                parts.append(choice.text)
                finish = choice.finish_reason or finish
        check("".join(parts) == want, "streamed greedy %r: %r != %r" % (prompt, "".join(parts), want))
        check(finish == r.choices[0].finish_reason, "stream finish %r" % finish)
        check(usage and usage.completion_tokens == r.usage.completion_tokens, "stream usage %r" % usage)
    # seeds: the same seed gives the same text; different seeds differ somewhere
    kw = dict(model=name, prompt="JULIET:", max_tokens=40, temperature=1.0, top_p=0.95)
    a = c.completions.create(seed=42, **kw).choices[0].text
    b = c.completions.create(seed=42, **kw).choices[0].text
    check(a == b, "seed 42 twice: %r != %r" % (a, b))
    s = "".join(ch.choices[0].text for ch in c.completions.create(seed=42, stream=True, **kw) if ch.choices)
    check(s == a, "seed 42 streamed: %r != %r" % (s, a))
    others = {c.completions.create(seed=k, **kw).choices[0].text for k in (1, 2, 3, 4)}
    check(len(others | {a}) > 1, "five seeds gave one text")
    # stop strings: the text ends before the first occurrence, finish_reason stop
    full = run_greedy(binary, "ROMEO:", 60)
    for stop in [full[12:16], "\n\n", ["zzzz", full[20:23]]]:
        stops = stop if isinstance(stop, list) else [stop]
        cut = min(full.find(s) for s in stops if full.find(s) >= 0)
        r = c.completions.create(model=name, prompt="ROMEO:", max_tokens=60, temperature=0, stop=stop)
        check(r.choices[0].text == full[:cut], "stop %r: %r != %r" % (stop, r.choices[0].text, full[:cut]))
        check(r.choices[0].finish_reason == "stop", "stop finish %r" % r.choices[0].finish_reason)
        st = "".join(ch.choices[0].text for ch in c.completions.create(
            model=name, prompt="ROMEO:", max_tokens=60, temperature=0, stop=stop, stream=True) if ch.choices)
        check(st == full[:cut], "streamed stop %r: %r" % (stop, st))
    # errors come back as the client's exceptions
    try:
        c.completions.create(model=name, prompt="x", max_tokens=-3)
        check(False, "max_tokens -3 accepted")
    except openai.BadRequestError as e:
        check("max_tokens" in str(e), "400 message %s" % e)
    try:
        c.chat.completions.create(model=name, messages=[{"role": "user", "content": "hi"}])
        check(False, "chat accepted without a template")
    except openai.BadRequestError as e:
        check("chat template" in str(e), "chat refusal message %s" % e)
    bad = openai.OpenAI(base_url="http://127.0.0.1:%d/v1" % port, api_key="wrong", max_retries=0)
    try:
        bad.models.list()
        check(False, "wrong key accepted")
    except openai.AuthenticationError:
        pass
    print("client: ok (openai %s)" % openai.__version__)


def phase_client(binary, venv):
    py = ensure_venv(venv)
    srv = Server(binary, "--api-key", API_KEY, "--parallel", "4")
    try:
        r = subprocess.run([py, os.path.abspath(__file__), "--inner-client", str(srv.port), "--mambacl", binary],
                           timeout=300)
        check(r.returncode == 0, "openai client checks failed")
    finally:
        srv.stop()


# ---- phase: http status codes, disconnects, shutdown --------------------------------

def expect_error(srv, status, method, path, body=None, headers=None, contains=None):
    st, hdr, raw = srv.request(method, path, body, headers=headers)
    check(st == status, "%s %s: %d, expected %d (%r)" % (method, path, st, status, raw[:200]))
    err = json.loads(raw)["error"]
    check(isinstance(err["message"], str) and err["message"], "error message")
    if contains:
        check(contains in err["message"], "message %r lacks %r" % (err["message"], contains))
    return hdr


def phase_http(binary):
    env = dict(os.environ, MAMBACL_API_KEY=API_KEY)
    srv = Server(binary, "--max-body", "4096", "--max-prompt-tokens", "64", "--max-tokens", "5000",
                 "--shutdown-timeout", "1", env=env)
    auth = {"Authorization": "Bearer " + API_KEY}
    try:
        check(srv.request("GET", "/health")[0] == 200, "/health needs no key")
        expect_error(srv, 401, "GET", "/v1/models", contains="API key")
        expect_error(srv, 401, "POST", "/v1/completions", {"prompt": "A"}, {"Authorization": "Bearer nope"})
        expect_error(srv, 404, "GET", "/v2/nothing", headers=auth)
        h = expect_error(srv, 405, "GET", "/v1/completions", headers=auth)
        check(h.get("Allow") == "POST", "Allow header %r" % h.get("Allow"))
        expect_error(srv, 405, "DELETE", "/health")
        expect_error(srv, 413, "POST", "/v1/completions", "x" * 5000, auth)
        expect_error(srv, 400, "POST", "/v1/completions", {"prompt": "A " * 200}, auth, contains="limit")
        expect_error(srv, 400, "POST", "/v1/completions", {"prompt": "A", "max_tokens": 5001}, auth,
                     contains="max_tokens")
        expect_error(srv, 400, "POST", "/v1/completions", {"prompt": "A", "n": 2}, auth, contains="'n'")
        # a NUL would cut cJSON's string (the prompt "A" silently): refused
        expect_error(srv, 400, "POST", "/v1/completions", {"prompt": "A\x00B"}, auth, contains="NUL")
        expect_error(srv, 400, "POST", "/v1/chat/completions", {"messages": []}, auth, contains="chat template")
        st, _, raw = srv.post("/tokenize", {"content": "ROMEO: hi"}, key=API_KEY)
        ids = json.loads(raw)["tokens"]
        check(st == 200 and ids, "tokenize %d %r" % (st, raw))
        st, _, raw = srv.post("/detokenize", {"tokens": ids}, key=API_KEY)
        check(st == 200 and json.loads(raw)["content"] == "ROMEO: hi", "detokenize %r" % raw)
        st, _, raw = srv.post("/v1/completions", {"prompt": ids, "max_tokens": 5, "temperature": 0}, key=API_KEY)
        st2, _, raw2 = srv.post("/v1/completions", {"prompt": "ROMEO: hi", "max_tokens": 5, "temperature": 0},
                                key=API_KEY)
        check(st == st2 == 200, "prompt as ids")
        check(json.loads(raw)["choices"][0]["text"] == json.loads(raw2)["choices"][0]["text"], "ids == text prompt")
        check(json.loads(raw2)["usage"]["prompt_tokens"] == len(ids), "usage prompt_tokens")
        curl_checks(srv, json.loads(raw2)["choices"][0]["text"])
        disconnect_mid_stream(srv)
        m = srv.metrics(API_KEY)
        for k in ["mambacl_queue_depth", "mambacl_batch_size", "mambacl_decode_tokens_per_second",
                  "mambacl_generation_tokens_total", 'mambacl_http_responses_total{code="401"}']:
            check(k in m, "metric %s missing" % k)
        check(m['mambacl_http_responses_total{code="401"}'] >= 2, "401s counted")
        shutdown_with_stream(srv)
    finally:
        if srv.alive():
            srv.p.kill()
    busy_queue(binary)
    print("http: ok")


def curl_checks(srv, want):
    """curl, whole and streamed (-N), gives the same text as http.client."""
    url = "http://127.0.0.1:%d/v1/completions" % srv.port
    base = ["curl", "-sS", "--max-time", "60", "-H", "Authorization: Bearer " + API_KEY,
            "-H", "Content-Type: application/json"]
    body = {"prompt": "ROMEO: hi", "max_tokens": 5, "temperature": 0}
    r = subprocess.run(base + ["-d", json.dumps(body), url], capture_output=True, timeout=90)
    check(r.returncode == 0, "curl failed: %r" % r.stderr)
    check(json.loads(r.stdout)["choices"][0]["text"] == want, "curl text %r" % r.stdout)
    r = subprocess.run(base + ["-N", "-d", json.dumps(dict(body, stream=True)), url], capture_output=True, timeout=90)
    check(r.returncode == 0, "curl -N failed: %r" % r.stderr)
    events, done = sse_events(r.stdout)
    check(done and "".join(c["text"] for e in events for c in e["choices"]) == want, "curl stream %r" % r.stdout)


def open_stream(port, body, key=API_KEY):
    """A raw socket with a streaming request sent and the first event read."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    data = json.dumps(dict(body, stream=True)).encode()
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key.encode() +
              b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
    got = b""
    while b"data: " not in got:
        chunk = s.recv(4096)
        check(chunk, "stream closed before its first event")
        got += chunk
    return s


def disconnect_mid_stream(srv):
    before = srv.metrics(API_KEY).get("mambacl_requests_cancelled_total", 0)
    s = open_stream(srv.port, {"prompt": "ROMEO:", "max_tokens": 3000, "temperature": 0})
    s.close()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10:
        m = srv.metrics(API_KEY)
        if m["mambacl_sequences_active"] == 0 and m["mambacl_requests_cancelled_total"] > before:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("a dropped stream was not cancelled within 10 s")
    check(m["mambacl_generation_tokens_total"] > 0, "tokens counted")


def shutdown_with_stream(srv):
    s = open_stream(srv.port, {"prompt": "ROMEO:", "max_tokens": 3000, "temperature": 0})
    t0 = time.monotonic()
    srv.stop(limit=15)
    check(time.monotonic() - t0 < 10, "shutdown took %.1f s" % (time.monotonic() - t0))
    rest = b""
    s.settimeout(5)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
    except (socket.timeout, ConnectionError):
        pass
    s.close()
    check(b"data: [DONE]" in rest, "the stream in flight did not end cleanly at shutdown")


def busy_queue(binary):
    """--parallel 1 --queue 1: a third concurrent request gets 503."""
    srv = Server(binary, "--parallel", "1", "--queue", "1", "--max-tokens", "100000")
    try:
        socks = [open_stream(srv.port, {"prompt": "A", "max_tokens": 100000, "temperature": 0}, key="")]
        results = []
        th = threading.Thread(target=lambda: results.append(srv.post("/v1/completions",
                                                                     {"prompt": "B", "max_tokens": 2})))
        th.start()
        t0 = time.monotonic()
        while srv.metrics()["mambacl_queue_depth"] < 1 and time.monotonic() - t0 < 10:
            time.sleep(0.02)
        st, _, raw = srv.post("/v1/completions", {"prompt": "C", "max_tokens": 2})
        check(st == 503 and "busy" in json.loads(raw)["error"]["message"], "full queue: %d %r" % (st, raw))
        for s in socks:
            s.close()
        th.join(30)
        check(results and results[0][0] == 200, "queued request after the stream: %r" % results)
    finally:
        srv.stop()


# ---- phase: 16 concurrent streams ----------------------------------------------------

def batch_cases():
    cases = []
    for i, p in enumerate(PROMPTS):
        body = {"prompt": p, "max_tokens": 8 + 7 * i}
        if i % 3 == 2:
            body.update(temperature=0.8, top_k=40, seed=100 + i)
        else:
            body.update(temperature=0)
        if i % 5 == 4:
            body["stop"] = ["\n\n"]
        cases.append(body)
    return cases


def phase_batch(binary):
    srv = Server(binary, "--parallel", "16", "--prefill-chunk", "24")
    try:
        cases = batch_cases()
        alone = [stream_text(srv, c) for c in cases]
        results = [None] * len(cases)
        errors = []

        def client(i):
            try:
                time.sleep(0.01 * (i % 4))
                results[i] = stream_text(srv, cases[i])
            except Exception as e:  # reported below
                errors.append("client %d: %r" % (i, e))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(len(cases))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        check(not errors, "; ".join(errors))
        for i, (a, b) in enumerate(zip(alone, results)):
            check(a == b, "client %d (%r): concurrent %r != alone %r" % (i, cases[i]["prompt"], b, a))
        check(srv.metrics()["mambacl_batch_size"] >= 1, "batch size metric")
        # a prompt of many chunks (--prefill-chunk 24), prefilled while other
        # streams decode, gives `mambacl run`'s greedy text
        long_prompt = " ".join(PROMPTS) * 3
        st, _, raw = srv.post("/tokenize", {"content": long_prompt})
        n_long = len(json.loads(raw)["tokens"])
        check(n_long > 10 * 24, "long prompt has %d tokens" % n_long)
        want = run_greedy(binary, long_prompt, 24)
        results = [None] * 4
        threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, stream_text(srv, cases[i])))
                   for i in range(3)]
        for t in threads:
            t.start()
        results[3] = stream_text(srv, {"prompt": long_prompt, "max_tokens": 24, "temperature": 0})
        for t in threads:
            t.join(120)
        check(results[3][0] == want, "chunked long prompt: %r != run %r" % (results[3][0], want))
        check(results[:3] == alone[:3], "streams beside the long prefill")
    finally:
        srv.stop()
    print("batch: ok (%d concurrent streams equal their single-request output)" % len(cases))


# ---- phase: fuzz-style loop -----------------------------------------------------------

def fuzz_cases(rng, vocab):
    """(kind, method, path, body bytes, expected status) cases; kind 'good' must succeed."""
    good_json = [
        {"prompt": rng.choice(PROMPTS), "max_tokens": rng.randint(1, 4), "temperature": 0},
        {"prompt": [rng.randrange(vocab) for _ in range(rng.randint(1, 6))], "max_tokens": 2, "seed": 7,
         "temperature": 0.7, "top_p": 0.9, "min_p": 0.05, "stop": "e", "unknown_field": {"x": [1]}},
        {"prompt": [rng.choice(PROMPTS)], "max_tokens": 3, "top_k": 5, "repetition_penalty": 1.2},
    ]
    bad_json = [
        b"{", b"", b"[]", b"null", b"\"prompt\"", b"{\"prompt\": \"A\"", b"{\"prompt\": \"A\"}}",
        b"[" * 3000 + b"]" * 3000, b"{\"prompt\": \"A\", \"max_tokens\": 1e400}",
        b"{\"prompt\": \"A\", \"max_tokens\": 99999999999999999999}", b"{\"prompt\": \"A\", \"max_tokens\": -1}",
        b"{\"prompt\": \"A\", \"max_tokens\": 2.5}", b"{\"prompt\": \"A\", \"temperature\": \"hot\"}",
        b"{\"prompt\": \"A\", \"temperature\": -1e308}", b"{\"prompt\": \"A\", \"seed\": 1e30}",
        b"{\"prompt\": 5}", b"{\"prompt\": [1, \"x\"]}", b"{\"prompt\": [%d]}" % (vocab + 5),
        b"{\"prompt\": [-1]}", b"{\"prompt\": \"A\", \"stop\": 7}", b"{\"prompt\": \"A\", \"stream\": \"yes\"}",
        b"{\"prompt\": \"A\", \"stop\": [\"\"]}", b"{\"prompt\": \"\"}", b"{\"prompt\": []}",
        b"{\"prompt\": \"\xff\xfe\xfd\"}", b"{\"prompt\": \"A\xc0\xaf\"}", b"{\"prompt\": \"\xed\xa0\x80\"}",
        bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))), b"{\"prompt\": \"A\", \"n\": 3}",
        b"{\"prompt\": [\"a\", \"b\"]}", b"{\"prompt\": \"A\", \"top_p\": 0}", b"{\"prompt\": \"A\", \"logprobs\": 5}",
        b"{\"prompt\": \"A\", \"stream_options\": {\"include_usage\": true}}",
        b"{\"tokens\": \"A\"}" ,
    ]
    r = rng.random()
    if r < 0.30:
        return ("good", "POST", "/v1/completions", json.dumps(rng.choice(good_json)).encode(), 200)
    if r < 0.36:
        return ("good-stream", "POST", "/v1/completions",
                json.dumps(dict(rng.choice(good_json), stream=True)).encode(), 200)
    if r < 0.42:
        return ("good-tokenize", "POST", "/tokenize", json.dumps({"content": rng.choice(PROMPTS)}).encode(), 200)
    if r < 0.46:
        return ("good-detok", "POST", "/detokenize",
                json.dumps({"tokens": [rng.randrange(vocab) for _ in range(5)]}).encode(), 200)
    if r < 0.50:
        return ("good-get", "GET", rng.choice(["/health", "/v1/models", "/metrics"]), None, 200)
    if r < 0.80:
        path = rng.choice(["/v1/completions", "/v1/completions", "/tokenize", "/detokenize"])
        body = rng.choice(bad_json)
        if path != "/v1/completions" and body.startswith(b"{\"prompt\""):
            body = b"{\"content\": 5, \"tokens\": {}}"
        return ("bad", "POST", path, body, 400)
    if r < 0.84:
        return ("bad", rng.choice(["GET", "PUT"]), "/v1/completions", None, 405)
    if r < 0.87:
        return ("bad", "GET", "/v1/%x" % rng.randrange(1 << 30), None, 404)
    if r < 0.90:
        return ("bad", "POST", "/v1/completions", b"x" * 70000, 413)
    return ("drop", "POST", "/v1/completions", None, None)


def fuzz_drop(port, rng):
    """A connection that goes away: mid-headers, mid-body, or mid-stream."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        how = rng.randrange(3)
        if how == 0:
            s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Le")
        elif how == 1:
            s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"prompt\":")
        else:
            body = json.dumps({"prompt": "ROMEO:", "max_tokens": 50, "stream": True}).encode()
            s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            s.recv(200)
    finally:
        s.close()


def fuzz_one(srv, case, rng):
    kind, method, path, body, want = case
    if kind == "drop":
        return fuzz_drop(srv.port, rng)
    st, hdr, raw = srv.request(method, path, body, timeout=60)
    check(st == want, "%s %s %r: status %d, expected %d (%r)" % (method, path, (body or b"")[:80], st, want, raw[:200]))
    if kind == "good-stream":
        events, done = sse_events(raw)
        check(done and events and all("error" not in e for e in events), "bad stream %r" % raw[:300])
    elif path == "/metrics":
        check(b"mambacl_generation_tokens_total" in raw, "metrics body")
    else:
        doc = json.loads(raw)
        if kind == "bad":
            check(doc["error"]["message"], "error body")
        elif path == "/v1/completions":
            check(doc["choices"][0]["finish_reason"] in ("stop", "length"), "completion body %r" % doc)
            check(doc["usage"]["completion_tokens"] <= 4, "usage")


def phase_fuzz(binary, count):
    srv = Server(binary, "--parallel", "4", "--max-body", "65536", "--max-tokens", "64")
    rng = random.Random(1234)
    cases = [fuzz_cases(rng, 4096) for _ in range(count)]
    errors, done = [], [0]
    lock = threading.Lock()

    def worker(w):
        r = random.Random(w)
        for i in range(w, len(cases), 4):
            if errors or time.monotonic() > DEADLINE:
                return
            try:
                fuzz_one(srv, cases[i], r)
            except Exception as e:
                errors.append("case %d %r: %r" % (i, cases[i][:4], e))
                return
            with lock:
                done[0] += 1

    try:
        threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check(not errors, "; ".join(errors[:3]))
        check(done[0] == count, "only %d of %d requests ran before the time limit" % (done[0], count))
        check(srv.alive(), "server died")
        st, _, raw = srv.request("GET", "/health")
        check(st == 200, "health after the loop")
        t0 = time.monotonic()  # dropped connections leave no sequence behind
        while time.monotonic() - t0 < 10:
            m = srv.metrics()
            if m["mambacl_sequences_active"] == 0 and m["mambacl_queue_depth"] == 0:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("sequences still active after the loop: %r" % m)
        kinds = {}
        for c in cases:
            kinds[c[0]] = kinds.get(c[0], 0) + 1
    finally:
        srv.stop()
    print("fuzz: ok (%d requests: %s)" % (count, ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mambacl", required=True)
    ap.add_argument("--venv", default=None)
    ap.add_argument("--phase", default="all", choices=["all", "client", "http", "batch", "fuzz"])
    ap.add_argument("--fuzz-count", type=int, default=1000)
    ap.add_argument("--inner-client", type=int, default=None)
    a = ap.parse_args()
    binary = os.path.abspath(a.mambacl)
    if a.inner_client:
        return phase_client_inner(a.inner_client, binary)
    phases = ["client", "http", "batch", "fuzz"] if a.phase == "all" else [a.phase]
    for ph in phases:
        left(ph)
        t0 = time.monotonic()
        if ph == "client":
            check(a.venv, "--venv is needed for the client phase")
            phase_client(binary, a.venv)
        elif ph == "http":
            phase_http(binary)
        elif ph == "batch":
            phase_batch(binary)
        else:
            phase_fuzz(binary, a.fuzz_count)
        print("  (%s: %.1f s)" % (ph, time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)
