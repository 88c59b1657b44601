#!/usr/bin/env python3
"""End to end, as an integrator and an auditor would: against the real server, with nothing but
the public key and what the server handed out, check a receipt, an inclusion proof, a consistency
proof, a CSV export and its manifest offline (an admin's, and a member's that must say nothing of
the events the member cannot see); then tamper with each and see the check fail.

    end_to_end.py BINARY

starts `BINARY serve` on a fresh SQLite file (development mode: the key is generated), and uses
`verify.py` (beside this file) and `BINARY verify-export`. Prints one line per check and a closing
`N passed, N failed` line; exits 1 if any check failed.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
VERIFY = os.path.join(HERE, "verify.py")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, base):
        self.base, self.token = base, None

    def call(self, method, path, body=None, raw=False):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        if self.token:
            request.add_header("authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
            return payload if raw else json.loads(payload)


def main():
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="auditlog-integrity-")
    port = free_port()
    env = dict(os.environ, DATA_DIR=work, DATABASE_URL=f"sqlite://{work}/e2e.db", AUDITLOG_DEV="1",
               ARCHIVE_DIR=os.path.join(work, "archives"), ARCHIVE_INTERVAL_SECONDS="0",
               STATIC_DIR=os.path.join(work, "none"), BIND=f"127.0.0.1:{port}", RUST_LOG="warn",
               LOG_NAME="e2e.activity-log.test")
    subprocess.run([binary, "create-user", "--tenant", "acme", "--email", "admin@acme.test", "--name", "Ada",
                    "--password-stdin", "--role", "admin"], env=env, check=True,
                   stdout=subprocess.DEVNULL, input=b"correct horse battery\n")
    subprocess.run([binary, "create-user", "--tenant", "acme", "--email", "tom@acme.test", "--name", "Tom",
                    "--password-stdin", "--role", "member", "--actor-id", "104"], env=env,
                   check=True, stdout=subprocess.DEVNULL, input=b"correct horse battery\n")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}")

    def verify(*args):
        done = subprocess.run([sys.executable, VERIFY, *args], capture_output=True, text=True)
        return done.returncode == 0, (done.stdout + done.stderr).strip()

    def path(name, content):
        p = os.path.join(work, name)
        with open(p, "w" if isinstance(content, str) else "wb") as f:
            f.write(content)
        return p

    try:
        client = Client(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while True:
            try:
                client.call("GET", "/readyz")
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not become ready")
                time.sleep(0.2)
        client.token = client.call("POST", "/api/v1/auth/login",
                                   {"email": "admin@acme.test", "password": "correct horse battery"})["access_token"]
        key = path("log.key", client.call("GET", "/api/v1/integrity/public-key", raw=True).decode())

        first = client.call("POST", "/api/v1/events", {"events": [
            {"action": "booking.created", "actor": {"id": "104", "name": "Tom Fischer"},
             "entity": {"type": "booking", "id": str(n), "label": f"BOK-{n}"}, "ip": "203.0.113.7"}
            for n in range(5)]})
        receipt = path("receipt.json", json.dumps(first))
        ok, out = verify("receipt", "--key", key, receipt)
        check("a receipt verifies with the public key", ok, out)
        for n in range(4):
            client.call("POST", "/api/v1/events", {"action": "invoice.sent", "entity": {"type": "invoice", "id": str(n)}})
        size = first["receipt"]["checkpoint"]["tree_size"]
        event_id = first["ids"][2]
        proof = path("proof.json", json.dumps(client.call("GET", f"/api/v1/events/{event_id}/proof?tree_size={size}")))
        ok, out = verify("inclusion", "--key", key, proof)
        check("an inclusion proof verifies against the receipt's checkpoint", ok, out)
        consistency = path("consistency.json", json.dumps(client.call("GET", f"/api/v1/integrity/consistency?first={size}")))
        ok, out = verify("consistency", "--key", key, "--old", receipt, consistency)
        check("the receipt's history is a prefix of the latest checkpoint", ok, out)

        # Tampered inputs fail.
        forged = json.loads(open(proof).read())
        forged["leaf"] = forged["leaf"].replace("booking.created", "booking.deleted")
        ok, _ = verify("inclusion", "--key", key, path("forged-proof.json", json.dumps(forged)))
        check("an edited leaf fails", not ok)
        other = json.loads(open(consistency).read())
        other["proof"][0] = ("A" if other["proof"][0][0] != "A" else "B") + other["proof"][0][1:]
        ok, _ = verify("consistency", "--key", key, "--old", receipt, path("forged-consistency.json", json.dumps(other)))
        check("an edited consistency proof fails", not ok)

        # Cells a spreadsheet would run as formulas (also behind invisible characters, in full-width
        # forms, or after an apostrophe of their own) are exported with a leading ' and still verify.
        client.call("POST", "/api/v1/events", {"action": "booking.noted", "actor": {"id": "'=1", "name": "\u200b@x"},
                                               "entity": {"type": "booking", "id": "f", "label": "\uff1dHYPERLINK(\"x\")"},
                                               "description": "\u202e=1+1", "user_agent": "\u2066-1"})

        # An export and its manifest, checked offline.
        csv = client.call("GET", "/api/v1/events/export?format=csv&module=booking", raw=True)
        cells = ["''=1", "'\u200b@x", "'\uff1dHYPERLINK(\"\"x\"\")", "'\u202e=1+1", "'\u2066-1"]
        text = csv.decode()
        check("formula cells are exported with a leading apostrophe", all(c in text for c in cells), text)
        through = client.call("GET", "/api/v1/integrity/checkpoint")["tree_size"]
        manifest = client.call("GET", f"/api/v1/events/export?format=manifest&module=booking&through_seq={through}", raw=True)
        csv_path, manifest_path = path("export.csv", csv), path("export.manifest.jsonl", manifest)
        done = subprocess.run([binary, "verify-export", csv_path, manifest_path, "--public-key", key],
                              env=env, capture_output=True, text=True)
        check("a CSV export verifies offline", done.returncode == 0, done.stdout + done.stderr)
        edited = path("edited.csv", csv.replace(b"BOK-3", b"BOK-9"))
        done = subprocess.run([binary, "verify-export", edited, manifest_path, "--public-key", key],
                              env=env, capture_output=True, text=True)
        check("an edited CSV row fails", done.returncode != 0, done.stdout)
        ok, out = verify("manifest", "--key", key, manifest_path)
        check("verify.py proves the manifest's events in the signed checkpoint", ok, out)

        # A member's export: a line for each of the member's own events and nothing about the
        # others' (invoices, by the admin, lie between them).
        client.call("POST", "/api/v1/events", {"action": "booking.updated", "actor": {"id": "104", "name": "Tom Fischer"},
                                               "entity": {"type": "booking", "id": "1", "label": "BOK-1"}})
        member = Client(client.base)
        member.token = member.call("POST", "/api/v1/auth/login",
                                   {"email": "tom@acme.test", "password": "correct horse battery"})["access_token"]
        # Both cover the same events: those of the latest checkpoint (the sign-in came after it).
        through = client.call("GET", "/api/v1/integrity/checkpoint")["tree_size"]
        csv = member.call("GET", f"/api/v1/events/export?format=csv&through_seq={through}", raw=True)
        manifest = member.call("GET", f"/api/v1/events/export?format=manifest&through_seq={through}", raw=True)
        csv_path, manifest_path = path("member.csv", csv), path("member.manifest.jsonl", manifest)
        lines = [json.loads(line) for line in manifest.decode().splitlines()]
        rows = csv.decode().splitlines()[1:]
        seqs = sorted(int(row.split(",")[1]) for row in rows)
        listed = [line["seq"] for line in lines[1:] if "seq" in line]
        check("a member's manifest has a line per exported row and no other seq",
              listed == seqs and lines[0]["exported"] == len(seqs) == 6 and seqs[-1] > 6 and lines[-1].get("end") is True
              and not {"first_seq", "last_seq", "prefix", "suffix"} & set(lines[0]), f"{listed} vs {seqs}")
        done = subprocess.run([binary, "verify-export", csv_path, manifest_path, "--public-key", key],
                              env=env, capture_output=True, text=True)
        check("a member's CSV export verifies offline", done.returncode == 0, done.stdout + done.stderr)
        ok, out = verify("manifest", "--key", key, manifest_path)
        check("verify.py proves the member's manifest", ok, out)
        at = next(i for i, line in enumerate(lines) if line.get("gap"))
        lines[at]["gap"][0] = ("A" if lines[at]["gap"][0][0] != "A" else "B") + lines[at]["gap"][0][1:]
        forged = path("forged.manifest.jsonl", "".join(json.dumps(line) + "\n" for line in lines))
        done = subprocess.run([binary, "verify-export", csv_path, forged, "--public-key", key],
                              env=env, capture_output=True, text=True)
        ok, _ = verify("manifest", "--key", key, forged)
        check("an edited proof node of a manifest fails both verifiers", done.returncode != 0 and not ok, done.stdout)
    finally:
        server.terminate()
        server.wait()
    failed = results.count(False)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
