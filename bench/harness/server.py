"""The server side: building, seeding, starting `auditlog serve`, talking HTTP to it and watching
its memory."""

import hashlib
import http.client
import json
import os
import secrets
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request


class HarnessError(Exception):
    """The harness itself broke (a failed request, a server that did not start, a wrong answer)."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RssSampler(threading.Thread):
    """Samples a process's resident memory every `every` seconds until stopped."""

    def __init__(self, pid, every=0.05):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples, self.stopped = pid, every, [], threading.Event()

    def run(self):
        while not self.stopped.is_set():
            self.samples.append(rss_mb(self.pid))
            self.stopped.wait(self.every)

    def stop(self):
        self.stopped.set()
        self.join()
        self.samples.append(rss_mb(self.pid))
        return max(self.samples)


def ensure_signing_key(binary, workdir):
    """The checkpoint signing key of the benchmark's servers, made once per work folder."""
    path = os.path.join(workdir, "signing-key.pem")
    if not os.path.exists(path):
        subprocess.run([binary, "keygen", "--output", path], cwd=workdir, check=True, capture_output=True,
                       env=base_env("sqlite://unused.db", workdir))
    return path


def command(binary, args, database_url, workdir, nice=0, check=True, stdin=None):
    ensure_signing_key(binary, workdir)
    env = base_env(database_url, workdir)
    prefix = ["nice", "-n", str(nice)] if nice else []
    result = subprocess.run(prefix + [binary] + args, env=env, cwd=workdir, capture_output=True, text=True,
                            input=stdin)
    if check and result.returncode != 0:
        raise HarnessError(f"`auditlog {' '.join(args[:1])}` failed ({result.returncode}): "
                           f"{(result.stderr or result.stdout).strip()[-2000:]}")
    return result


def base_env(database_url, workdir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDITLOG_", "DB_", "MAX_", "PDF_"))}
    # Started in `workdir`, so the repository's `.env` (if any) is not read either.
    env.update(DATABASE_URL=database_url, RUST_LOG="warn", STATIC_DIR="/nonexistent", ARCHIVE_INTERVAL_SECONDS="0",
               DATA_DIR=workdir, ARCHIVE_DIR=os.path.join(workdir, "archives"),
               JWT_SECRET="bench-" + secrets.token_hex(32),
               SIGNING_KEY_FILE=os.path.join(workdir, "signing-key.pem"),
               # A checkpoint log per database: each one's tenants have trees of their own.
               CHECKPOINT_DIR=os.path.join(workdir, "checkpoints",
                                           hashlib.sha256(database_url.encode()).hexdigest()[:16]),
               # Every page total estimated afresh: the figures are what a first visit costs, not
               # what paging on costs once the server keeps the estimate (30 s by default).
               ESTIMATE_REUSE_SECONDS="0")
    return env


class Server:
    """`auditlog serve` on a free port, stopped on exit."""

    def __init__(self, binary, database_url, workdir, name="server"):
        self.binary, self.database_url, self.workdir, self.name = binary, database_url, workdir, name
        self.port = free_port()
        self.process = None
        self.log_path = os.path.join(workdir, f"{name}.log")

    def __enter__(self):
        ensure_signing_key(self.binary, self.workdir)
        env = base_env(self.database_url, self.workdir)
        env["BIND"] = f"127.0.0.1:{self.port}"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([self.binary, "serve"], env=env, cwd=self.workdir, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=5)
                return self
            except (OSError, urllib.error.URLError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise HarnessError(f"the server did not start; its log ({self.log_path}):\n{self.tail()}")
                time.sleep(0.2)

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()

    def tail(self):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-30:])
        except OSError:
            return ""

    @property
    def pid(self):
        return self.process.pid

    def rss(self):
        return rss_mb(self.pid)

    def client(self, token=None):
        return Client(self.port, token)


class Client:
    """A keep-alive HTTP/1.1 connection to the server; every non-2xx answer is a HarnessError."""

    def __init__(self, port, token=None):
        self.port, self.token = port, token
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3600)

    def request(self, method, path, body=None, headers=None, expect=(200, 201)):
        """`(seconds, status, headers, body bytes)`; the time covers sending and reading it all."""
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        for attempt in (1, 2):
            if self.conn is None:
                self._connect()
            try:
                started = time.perf_counter()
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                elapsed = time.perf_counter() - started
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the server closed meanwhile: reconnect once.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        if response.status not in expect:
            raise HarnessError(f"{method} {path} answered {response.status}: {data[:500].decode(errors='replace')}")
        return elapsed, response.status, response, data

    def json(self, method, path, body=None, headers=None):
        _, _, _, data = self.request(method, path, body, headers)
        return json.loads(data)

    def stream(self, path, chunk=1 << 20):
        """GETs `path` reading the body in chunks and dropping it: `(seconds, bytes, newlines, headers)`."""
        # A fresh connection: the kept-alive one may have been closed by the server while idle.
        self.close()
        self._connect()
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        started = time.perf_counter()
        self.conn.request("GET", path, headers=headers)
        response = self.conn.getresponse()
        if response.status != 200:
            raise HarnessError(f"GET {path} answered {response.status}: {response.read()[:500]!r}")
        size = lines = 0
        while True:
            block = response.read(chunk)
            if not block:
                break
            size += len(block)
            lines += block.count(b"\n")
        return time.perf_counter() - started, size, lines, response

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None


def login(server, email, password):
    """An admin's access token (JWT) for reads, and an API token with both scopes for ingest."""
    client = server.client()
    session = client.json("POST", "/api/v1/auth/login", {"email": email, "password": password})
    admin = server.client(session["access_token"])
    token = admin.json("POST", "/api/v1/tokens", {"name": "benchmark", "scopes": ["events:write", "events:read"]})
    client.close()
    admin.close()
    return session["access_token"], token["secret"]
