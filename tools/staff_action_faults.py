"""The outside fault harness applied to a crew's queued actions: 300 actions, every fault a
street can throw at them, then the counts — queued, applied, lost, applied twice.

Run: ``.venv/bin/python tools/staff_action_faults.py [--actions 300] [--seed 25]``

A real Civic311 server runs as a separate process on a throwaway SQLite database. A client
plays the phone's outbox exactly as ``webapp/static/js/staff-work.js`` does it (actions kept
in a persistent store standing for IndexedDB, oldest first, each with its idempotency key,
removed only when the server answered 200 or 409, the rest retried on the next flush).
Between the two, a seeded fault plan decides each send's fate:

- refused: nothing listens (the connection is refused);
- cut upload: a proxy forwards only half of the request, then hangs up;
- lost answer: the server gets the whole request and answers, the proxy drops the answer;
- server killed: the server process is killed (SIGKILL) as the request reaches it, then
  started again;
- tab closed: the page dies with the send in flight (its answer is never read) and a new
  page starts from the persistent store.

Thirty requests are assigned to one crew member; each gets an acknowledge, eight notes and
a close with an after-photo (10 actions each). At the end the database is read directly:
an action is lost when its change is missing, applied twice when its change is there more
than once. The script exits non-zero unless 0 are lost and 0 applied twice.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import factories  # noqa: E402  (the repository's own test data builders)

NOTES_PER_REQUEST = 8
FAULTS = ("refused", "cut", "lost", "killed", "tab")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The app in its own process (so it can be killed mid-request)."""

    def __init__(self, env: dict, port: int):
        self.env, self.port, self.process = env, port, None
        self.kills = 0

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
            [sys.executable, "-m", "flask", "--app", "webapp", "run", "--port", str(self.port),
             "--no-reload", "--no-debugger", "--with-threads"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait()


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int((re.search(rb"(?i)content-length:\s*(\d+)", head) or [0, b"0"])[1])
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class FaultProxy:
    """A one-request-per-connection proxy that does what ``mode`` says to the next send."""

    def __init__(self, server: Server):
        self.server = server
        self.mode = "pass"
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            client, _ = self.listener.accept()
            try:
                self._one(client)
            except OSError:
                pass
            finally:
                client.close()

    def _one(self, client: socket.socket) -> None:
        request = _read_request(client)
        mode = self.mode
        upstream = socket.create_connection(("127.0.0.1", self.server.port))
        try:
            if mode == "cut":
                upstream.sendall(request[: len(request) // 2])
                return  # both sides hang up with half of the upload sent
            upstream.sendall(request)
            if mode == "killed":
                time.sleep(0.05)  # the request has reached the server
                self.server.kill()
                return
            answer = b""
            while chunk := upstream.recv(65536):
                answer += chunk
            if mode in ("lost", "tab"):
                return  # the server answered; the phone never hears it
            client.sendall(answer)
        finally:
            upstream.close()


class Phone:
    """The outbox as staff-work.js keeps it: a persistent store, oldest first, one key each."""

    def __init__(self, store: Path, base: str, proxy: FaultProxy, session: requests.Session):
        self.store, self.base, self.proxy, self.session = store, base, proxy, session

    def load(self) -> list[dict]:
        return json.loads(self.store.read_text()) if self.store.exists() else []

    def save(self, actions: list[dict]) -> None:
        self.store.write_text(json.dumps(actions))

    def csrf(self) -> str:
        return self.session.get(f"{self.base}/staff/work/data", timeout=30).json()["csrf"]

    def send(self, action: dict, via: str, token: str) -> int:
        files = {"photo": ("after.jpg", bytes.fromhex(action["photo"]), "image/jpeg")} if action.get("photo") else None
        fields = {k: v for k, v in action.items() if k not in ("photo", "state")}
        response = self.session.post(
            f"{via}/staff/work/actions", data=fields, files=files,
            headers={"X-CSRFToken": token, "Connection": "close"}, timeout=30,
        )
        return response.status_code


def _photo() -> str:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (random.randrange(256), 90, 40)).save(out, "JPEG", quality=90)
    return out.getvalue().hex()


def setup(database_url: str, instance: Path, count_requests: int) -> tuple[str, list[str]]:
    """A migrated database with a city, a crew member and their assigned requests."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.domain.lifecycle import assignment as requests_domain
    from webapp.plumbing.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_DIR": str(instance),
                      "SECRET_KEY": "x" * 40, "BACKGROUND_WORKER": "off"})
    with app.app_context():
        upgrade()
        factories.gen_city()
        crew = factories.gen_user("staff", email="crew@city.example", name="Casey Crew")
        ids = []
        for i in range(count_requests):
            req = factories.gen_request("graffiti", lat=35.02 + i * 0.001, long=-85.31)
            requests_domain.assign(req, crew, assignee=crew)
            ids.append((req.public_id, crew.id))
        db.session.commit()
        db.engine.dispose()
    return "crew@city.example", ids


def count(database_url: str, instance: Path, actions: list[dict]) -> dict:
    """What the database holds for each queued action: 0 = lost, 1 = once, 2+ = twice."""
    from sqlalchemy import select

    from webapp import create_app
    from webapp.models import Photo, RequestEvent, ServiceRequest, StaffAction
    from webapp.plumbing.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_DIR": str(instance),
                      "SECRET_KEY": "x" * 40, "BACKGROUND_WORKER": "off"})
    found: Counter = Counter()
    with app.app_context():
        by_public = {r.public_id: r for r in db.session.scalars(select(ServiceRequest))}
        events = db.session.scalars(select(RequestEvent)).all()
        notes = Counter((e.request_id, e.note) for e in events if e.kind == "private_note")
        acks = Counter(e.request_id for e in events if e.kind == "acknowledged")
        closes = Counter(e.request_id for e in events if e.to_status == "closed")
        photos = Counter(p.request_id for p in db.session.scalars(select(Photo)) if p.kind == "closure")
        keys = Counter(db.session.scalars(select(StaffAction.idempotency_key)).all())
        for action in actions:
            req = by_public[action["request"]]
            if action["kind"] == "acknowledge":
                n = acks[req.id]
            elif action["kind"] == "note":
                n = notes[(req.id, action["note"])]
            else:
                n = closes[req.id]
                assert photos[req.id] == n, "a close and its after-photo go together"
            found[action["key"]] = n
            assert keys[action["key"]] <= 1
        db.engine.dispose()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=300, help="queued actions (10 per request)")
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--fault-rate", type=float, default=0.35, help="share of sends that fail")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    random.seed(args.seed)
    work = Path(tempfile.mkdtemp(prefix="staff-faults-"))
    database_url = f"sqlite:///{work / 'civic311.db'}"
    email, requests_ = setup(database_url, work / "instance", args.actions // (NOTES_PER_REQUEST + 2))

    env = {**os.environ, "DATABASE_URL": database_url, "INSTANCE_DIR": str(work / "instance"),
           "SECRET_KEY": "x" * 40, "BACKGROUND_WORKER": "off", "RATELIMIT_ENABLED": "false"}
    server = Server(env, free_port())
    server.start()
    proxy = FaultProxy(server)
    direct = f"http://127.0.0.1:{server.port}"
    session = requests.Session()
    page = session.get(f"{direct}/auth/sign-in", timeout=30).text
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    signed = session.post(f"{direct}/auth/sign-in", data={"email": email, "password": factories.PASSWORD, "csrf_token": token}, timeout=30, allow_redirects=False)
    assert signed.status_code == 302, signed.text[:300]

    queued = []
    for public_id, crew_id in requests_:
        seen = {"seen_closed": "0", "seen_assignee_id": str(crew_id)}
        queued.append({"key": str(uuid.uuid4()), "kind": "acknowledge", "request": public_id, **seen})
        for n in range(NOTES_PER_REQUEST):
            queued.append({"key": str(uuid.uuid4()), "kind": "note", "request": public_id,
                           "note": f"Note {n} on {public_id}", "public": "0", **seen})
        queued.append({"key": str(uuid.uuid4()), "kind": "close", "request": public_id,
                       "note": "Fixed.", "resolution": "fixed", "photo": _photo(), **seen})
    phone = Phone(work / "outbox.json", direct, proxy, session)
    phone.save(queued)

    faults: Counter = Counter()
    sends = 0
    token = phone.csrf()
    while phone.load():
        for action in phone.load():  # one flush: oldest first, stop at the first failure
            if action.get("state") == "conflict":
                continue
            fault = rng.choice(FAULTS) if rng.random() < args.fault_rate else "pass"
            proxy.mode = "pass" if fault == "refused" else fault
            via = f"http://127.0.0.1:{free_port()}" if fault == "refused" else f"http://127.0.0.1:{proxy.port}"
            sends += 1
            try:
                status = phone.send(action, via, token)
            except requests.RequestException:
                status = None
            if fault != "pass":
                faults[fault] += 1
            if fault == "killed":
                server.start()
            if fault == "tab":
                token = phone.csrf()  # a new page, reading the persistent store afresh
                break
            if status == 200:
                phone.save([a for a in phone.load() if a["key"] != action["key"]])
            elif status == 409:
                phone.save([{**a, "state": "conflict"} if a["key"] == action["key"] else a for a in phone.load()])
            else:
                break
        if all(a.get("state") == "conflict" for a in phone.load()):
            break
    server.stop()

    found = count(database_url, work / "instance", queued)
    lost = sum(1 for a in queued if found[a["key"]] == 0)
    twice = sum(1 for a in queued if found[a["key"]] > 1)
    applied = sum(1 for a in queued if found[a["key"]] == 1)
    print(f"queued staff actions: {len(queued)}  sends: {sends}")
    print("faults: " + ", ".join(f"{name} {faults[name]}" for name in FAULTS) + f" (server restarts {server.kills})")
    print(f"applied once: {applied}  lost: {lost}  applied twice: {twice}")
    return 0 if lost == 0 and twice == 0 and applied == len(queued) else 1


if __name__ == "__main__":
    sys.exit(main())
