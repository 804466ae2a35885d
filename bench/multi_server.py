"""Beyond one machine, proven: two app servers, two notification workers, one database.

    nice -n 19 .venv/bin/python bench/multi_server.py [--reports 2000] [--replay-share 0.2]

Starts everything a city would run on several machines, each as its own process with its
own instance folder (no shared disk, no shared memory):

- a throwaway PostgreSQL database (``--database-url``, dropped and created again), migrated
  with ``flask db upgrade`` and seeded with ``flask seed-demo``;
- Debian's ``redis-server`` on a free port, the rate limiter's shared store (``REDIS_URL``);
- moto's S3 server (``moto_server``), where every app server keeps photos
  (``PHOTO_STORAGE=s3``);
- two gunicorn app servers (the repo's ``gunicorn.conf.py``) and two
  ``flask notify-worker`` processes (push and e-mail), all on the same database;
- in this process: the fake Web Push service of the tests (checks VAPID, decrypts every
  message) and the fake SMTP relay.

Then it plays a city's day, with threads as phones behind a load balancer
(``TRUSTED_PROXIES=1``, each phone its own ``X-Forwarded-For``):

1. every phone opens the app (a page that offers it a device token), sends one photo report
   (``POST /api/v1/requests``, multipart, a unique small JPEG, its own Idempotency-Key),
   alternating between the servers; ``--replay-share`` of the phones lose the answer and
   send the same report with the same key to the *other* server while the first send is
   still in flight; a quarter leave an e-mail address for the closure mail;
2. every phone subscribes to push (``POST /api/v1/push/subscriptions``) against the fake
   push service, on the server whose answer it kept;
3. a staff member signs in on one server and closes every report through the staff API,
   alternating between servers (the session works on both: one shared secret key); the
   two workers drain the outbox side by side;
4. one address sends ``--limit-burst`` reports split over both servers at once: the
   limiter must refuse everything past the configured limit, counted once for both.

Prints the counts and exits 1 when any is wrong: exactly one stored request per key, one
photo per report in S3 (every stored key present), each subscription pushed exactly once
(verified and decrypted by the fake), each e-mail address mailed once, the rate-limit burst
accepted exactly up to the limit. Every process it started is stopped at the end and the
database dropped (``--keep`` keeps database and logs for a look).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import http.cookiejar
import io
import json
import logging
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes import serve  # noqa: E402
from tests.fakes.push_service import FakePushService  # noqa: E402
from tests.fakes.s3 import free_port  # noqa: E402
from tests.fakes.smtp import SMTPServer  # noqa: E402

BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/multi_run"
BUCKET = "civic311-multi"
SERVICE_CODE = "sidewalk"  # a demo service without required questions
STAFF_EMAIL = "staff@civic311.example"
DEMO_PASSWORD = "civic311-demo"
WRITE = {"X-Requested-With": "civic311", "Accept": "application/json"}
SUBMIT_LIMIT = 20  # RATELIMIT_SUBMIT per hour, per device and per address
MAIL_EVERY = 4  # every 4th phone leaves an e-mail address
TRANSIENT = {500, 502, 503, 504}


# --- processes ------------------------------------------------------------------------


@dataclass
class Stack:
    """Every process started (stopped in reverse order) and where their logs go."""

    logs: Path
    processes: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    in_process: list = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        """Start ``argv`` in its own process group, output to ``<logs>/<name>.log``."""
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append((name, process))
        return process

    def log(self, name: str) -> str:
        """What a process has written so far."""
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM every process group, then SIGKILL what is left after 20 s."""
        for _, process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _, process in reversed(self.processes):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for stopper in reversed(self.in_process):
            stopper()


def run_flask(env: dict, *args: str) -> str:
    """Run one ``flask --app webapp`` command to the end; its output."""
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "webapp", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def wait_for(check, what: str, timeout: float, stack: Stack | None = None) -> None:
    """Poll ``check()`` until true; fail with the process logs after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (requests.RequestException, OSError):
            pass
        if stack is not None:
            for name, process in stack.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited early:\n{stack.log(name)[-3000:]}")
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def fresh_database(url: str) -> None:
    """Drop and create the database named in ``url`` (on the same server)."""
    import psycopg

    parts = urlsplit(url.replace("+psycopg", ""))
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise ValueError(f"unexpected database name {name!r}")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    """Drop the throwaway database."""
    import psycopg

    parts = urlsplit(url.replace("+psycopg", ""))
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def vapid_pair() -> tuple[str, str]:
    """A fresh VAPID key pair (PEM private, base64url public) shared by every process."""
    from cryptography.hazmat.primitives import serialization
    from py_vapid import Vapid

    from tests.fakes.push_service import b64url

    signer = Vapid()
    signer.generate_keys()
    public = signer.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return signer.private_pem().decode(), b64url(public)


# --- the phones -----------------------------------------------------------------------


def unique_jpeg(index: int) -> bytes:
    """A small real photo, different for every phone (photos are stored by content)."""
    from PIL import Image, ImageDraw

    rng = random.Random(index)
    image = Image.new("RGB", (160, 120), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(150), rng.randrange(110)
        draw.rectangle((x, y, x + rng.randrange(10, 60), y + rng.randrange(10, 40)),
                       fill=tuple(rng.randrange(256) for _ in range(3)))
    draw.text((8, 8), f"#{index}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def http_session() -> requests.Session:
    """A keep-alive session that stores no cookies (each phone sends its own)."""
    session = requests.Session()
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


class Sessions(threading.local):
    """One pooled session per thread."""

    def __init__(self) -> None:
        self.session = http_session()


@dataclass
class Phone:
    """One resident's phone: its address, device token, report and push subscription."""

    index: int
    home: str  # the server it sends to first
    other: str
    address: str
    replays: bool
    email: str | None
    key: str = field(default_factory=lambda: str(uuid.uuid4()))
    token: str | None = None
    public_id: str | None = None
    kept_from: str | None = None  # the server whose answer the phone received
    endpoint: str | None = None


@dataclass
class Tally:
    """Answers counted across threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: collections.Counter = field(default_factory=collections.Counter)
    seconds: collections.Counter = field(default_factory=collections.Counter)
    retries: int = 0
    problems: list[str] = field(default_factory=list)

    def note(self, what: str, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[f"{what} {status}"] += 1
            self.seconds[what] += seconds

    def mean_ms(self) -> dict[str, int]:
        """Mean answer time per kind of call, in milliseconds."""
        calls = collections.Counter()
        for key, count in self.statuses.items():
            calls[key.rsplit(" ", 1)[0]] += count
        return {what: round(1000 * total / calls[what]) for what, total in self.seconds.items()}

    def problem(self, text: str) -> None:
        with self.lock:
            if len(self.problems) < 20:
                self.problems.append(text)


def send_with_retry(tally: Tally, what: str, send) -> requests.Response:
    """Send like the outbox: a 5xx or a dropped connection is retried with backoff."""
    for attempt in range(6):
        began = time.monotonic()
        try:
            response = send()
        except requests.ConnectionError as error:
            tally.problem(f"{what}: {error}")
            response = None
        if response is not None:
            tally.note(what, response.status_code, time.monotonic() - began)
            if response.status_code not in TRANSIENT:
                return response
            tally.problem(f"{what}: {response.status_code} {response.text[:200]}")
        with tally.lock:
            tally.retries += 1
        time.sleep(0.2 * 2**attempt)
    raise RuntimeError(f"{what}: no answer after retries")


def phone_headers(phone: Phone) -> dict:
    headers = {"X-Forwarded-For": phone.address}
    if phone.token:
        headers["Cookie"] = f"civic_device={phone.token}"
    return headers


def post_report(sessions: Sessions, tally: Tally, phone: Phone, server: str, photo: bytes,
                what: str) -> requests.Response:
    """The outbox's send: multipart fields and photo, Idempotency-Key, the device cookie."""
    rng = random.Random(phone.index)
    fields = {
        "service_code": SERVICE_CODE,
        "lat": f"{35.03 + rng.random() * 0.04:.6f}",
        "long": f"{-85.32 + rng.random() * 0.05:.6f}",
        "description": f"Raised slab, trip hazard (phone {phone.index}).",
        "captured_at": "2026-05-01T09:30:00Z",
    }
    if phone.email:
        fields["contact_email"] = phone.email

    def send():
        return sessions.session.post(
            f"{server}/api/v1/requests",
            headers={**WRITE, **phone_headers(phone), "Idempotency-Key": phone.key},
            data=fields,
            files=[("photos", ("photo-1.jpg", photo, "image/jpeg"))],
            timeout=120,
        )

    return send_with_retry(tally, what, send)


def run_phone(sessions: Sessions, tally: Tally, fake: FakePushService, phone: Phone) -> None:
    """Open the app, report (with a concurrent replay when the answer is lost), subscribe."""
    opened = send_with_retry(tally, "open page", lambda: sessions.session.get(
        f"{phone.home}/", headers=phone_headers(phone), timeout=60))
    phone.token = opened.cookies.get("civic_device")
    if not phone.token:
        tally.problem(f"phone {phone.index}: the page offered no device token")
    photo = unique_jpeg(phone.index)
    if phone.replays:
        replay: dict = {}

        def resend() -> None:
            time.sleep(random.random() * 0.05)  # the phone gives up on the first answer
            replay["answer"] = post_report(sessions, tally, phone, phone.other, photo,
                                           "report replay")

        thread = threading.Thread(target=resend)
        thread.start()
        post_report(sessions, tally, phone, phone.home, photo, "report")  # answer lost
        thread.join()
        kept, phone.kept_from = replay.get("answer"), phone.other
    else:
        kept, phone.kept_from = post_report(sessions, tally, phone, phone.home, photo,
                                            "report"), phone.home
    if kept is None or kept.status_code not in (200, 201):
        tally.problem(f"phone {phone.index}: report answered "
                      f"{kept.status_code if kept is not None else None}")
        return
    phone.public_id = kept.json()["data"]["id"]
    newer = kept.headers.get("X-Device-Token")
    if newer:
        phone.token = newer
    keys = fake.subscription()
    phone.endpoint = keys.endpoint
    subscribed = send_with_retry(tally, "subscribe", lambda: sessions.session.post(
        f"{phone.kept_from}/api/v1/push/subscriptions",
        headers={**WRITE, **phone_headers(phone), "Content-Type": "application/json"},
        data=json.dumps(keys.as_json()), timeout=60))
    if subscribed.status_code != 201:
        tally.problem(f"phone {phone.index}: subscribe answered {subscribed.status_code}")


def staff_session(server: str) -> tuple[requests.Session, dict]:
    """Sign the staff member in through the sign-in form (CSRF token and all)."""
    session = requests.Session()
    headers = {"X-Forwarded-For": "10.200.0.1"}
    page = session.get(f"{server}/auth/sign-in", headers=headers, timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    if token is None:
        raise RuntimeError(f"no CSRF token on the sign-in page ({page.status_code}): "
                           f"{page.text[:300]}")
    signed_in = session.post(
        f"{server}/auth/sign-in", headers=headers, allow_redirects=False, timeout=30,
        data={"csrf_token": token[1], "email": STAFF_EMAIL, "password": DEMO_PASSWORD},
    )
    if signed_in.status_code != 302:
        raise RuntimeError(f"staff sign-in answered {signed_in.status_code}")
    return session, headers


def close_all(phones: list[Phone], servers: list[str], threads: int, tally: Tally) -> None:
    """Close every report through the staff API, alternating between the servers."""
    session, headers = staff_session(servers[0])
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    sessions = Sessions()

    def close(numbered: tuple[int, Phone]) -> None:
        number, phone = numbered
        server = servers[number % len(servers)]
        answer = send_with_retry(tally, "close", lambda: sessions.session.post(
            f"{server}/api/v1/staff/requests/{phone.public_id}/transition",
            headers={**WRITE, **headers, "Cookie": cookie, "Content-Type": "application/json"},
            data=json.dumps({"status": "closed", "resolution": "fixed",
                             "note": "Repaired the sidewalk this morning."}),
            timeout=60))
        if answer.status_code != 200:
            tally.problem(f"close {phone.public_id}: {answer.status_code} {answer.text[:200]}")

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(close, enumerate(p for p in phones if p.public_id)))


def rate_limit_burst(servers: list[str], count: int, threads: int) -> collections.Counter:
    """``count`` reports from one address, alternating servers, all at once."""
    sessions = Sessions()
    address = "10.250.0.1"

    def send(number: int) -> int:
        return sessions.session.post(
            f"{servers[number % len(servers)]}/api/v1/requests",
            headers={**WRITE, "X-Forwarded-For": address, "Idempotency-Key": str(uuid.uuid4())},
            data={"service_code": SERVICE_CODE, "lat": "35.045", "long": "-85.31",
                  "description": f"Burst report {number}."},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(threads) as pool:
        return collections.Counter(pool.map(send, range(count)))


# --- the run --------------------------------------------------------------------------


def query(url: str, sql: str, params: dict | None = None) -> list[tuple]:
    """Rows of one query against the run's database."""
    import psycopg

    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        return connection.execute(sql, params or {}).fetchall()


def worker_sent(stack: Stack, name: str) -> int:
    """What a notify-worker reports having sent (its ``sent N`` lines)."""
    return sum(int(n) for n in re.findall(r"notify-worker: sent (\d+)", stack.log(name)))


def run(args: argparse.Namespace) -> int:
    """Start the stack, play the day, check the counts; returns the exit status."""
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="civic311-multi-"))
    (work / "logs").mkdir()
    stack = Stack(work / "logs")
    failures: list[str] = []
    figures: list[tuple[str, object]] = []
    url = args.database_url
    try:
        fresh_database(url)
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is missing (apt-get install -y redis-server)")
        redis_port = free_port()
        stack.start("redis", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"], dict(os.environ))
        s3_port = free_port()
        stack.start("s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)],
                    dict(os.environ))

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake's request log
        fake = FakePushService()
        push_server = serve(fake)
        fake.base_url = push_server.url
        stack.in_process.append(push_server.stop)
        smtp = SMTPServer().start()
        stack.in_process.append(smtp.stop)

        private_pem, public_key = vapid_pair()
        base_env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "PUBLIC_URL": "http://127.0.0.1",
            "VAPID_PRIVATE_KEY": private_pem,
            "VAPID_PUBLIC_KEY": public_key,
            "PUSH_SERVICES": "http://127.0.0.1",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "RATELIMIT_SUBMIT": f"{SUBMIT_LIMIT} per hour",
            "PHOTO_STORAGE": "s3",
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
            "S3_PREFIX": "photos",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp.port),
            "BACKGROUND_WORKER": "off",
            "TRUSTED_PROXIES": "1",
            "GEOCODER_DOMAIN": "127.0.0.1:9",
            "GEOCODER_SCHEME": "http",
            "GEOCODER_TIMEOUT": "0.2",
            "PYTHONUNBUFFERED": "1",
        }

        def env_for(name: str) -> dict:
            """Each process its own instance folder: nothing is shared through the disk."""
            folder = work / name
            return {**base_env, "INSTANCE_DIR": str(folder / "instance"),
                    "UPLOAD_DIR": str(folder / "uploads")}

        phase = time.monotonic()
        run_flask(env_for("setup"), "db", "upgrade")
        # The city is seeded while the servers start (they only need the schema).
        seeder = ThreadPoolExecutor(1)
        seeding = seeder.submit(run_flask, env_for("setup"), "seed-demo", "--requests",
                                str(args.seed_requests))
        seeder.shutdown(wait=False)
        import boto3

        wait_for(lambda: requests.get(f"http://127.0.0.1:{s3_port}/", timeout=2).ok,
                 "the S3 server", 30, stack)
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{s3_port}",
                          region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
        s3.create_bucket(Bucket=BUCKET)

        servers = []
        for number in (1, 2):
            port = free_port()
            env = {**env_for(f"app{number}"), "GUNICORN_BIND": f"127.0.0.1:{port}",
                   "GUNICORN_WORKERS": str(args.gunicorn_workers)}
            stack.start(f"app{number}", [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py",
                                         "--no-control-socket", "webapp:create_app()"], env)
            servers.append(f"http://127.0.0.1:{port}")
        for number in (1, 2):
            stack.start(f"worker{number}", [str(BIN / "flask"), "--app", "webapp",
                                            "notify-worker", "--interval", "1"],
                        env_for(f"worker{number}"))
        seeding.result()  # raises when seeding failed
        for server in servers:
            wait_for(lambda s=server: requests.get(f"{s}/api/v1/push/public-key",
                                                   timeout=5).json()["data"]["public_key"]
                     == public_key, f"{server}", 90, stack)
        figures.append(("start-up (migrate, seed, 2 servers, 2 workers)",
                        f"{time.monotonic() - phase:.1f} s"))
        seeded = query(url, "SELECT count(*) FROM service_requests")[0][0]

        # 1 + 2: the reports, their replays, the push subscriptions.
        rng = random.Random(311)
        replaying = set(rng.sample(range(args.reports), round(args.reports * args.replay_share)))
        phones = [
            Phone(
                index=i, home=servers[i % 2], other=servers[(i + 1) % 2],
                address=f"10.{1 + i // 65000}.{(i // 250) % 250}.{1 + i % 250}",
                replays=i in replaying,
                email=f"resident{i}@example.net" if i % MAIL_EVERY == 0 else None,
            )
            for i in range(args.reports)
        ]
        tally = Tally()
        sessions = Sessions()
        phase = time.monotonic()
        with ThreadPoolExecutor(args.threads) as pool:
            for done in pool.map(lambda p: run_phone(sessions, tally, fake, p), phones):
                del done
        report_seconds = time.monotonic() - phase

        keys = [p.key for p in phones]
        stored = query(url, "SELECT client_uuid, count(*) FROM service_requests "
                            "WHERE client_uuid = ANY(%(keys)s) GROUP BY client_uuid",
                       {"keys": keys})
        total_rows = query(url, "SELECT count(*) FROM service_requests")[0][0] - seeded
        photo_rows = query(url, "SELECT p.display_key, p.thumb_key FROM photos p "
                                "JOIN service_requests r ON r.id = p.request_id "
                                "WHERE r.client_uuid = ANY(%(keys)s)", {"keys": keys})
        objects: set[str] = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            objects.update(item["Key"] for item in page.get("Contents", []))
        referenced = {f"photos/{k}" for row in photo_rows for k in row}
        subscriptions = query(url, "SELECT count(*) FROM push_subscriptions")[0][0]
        created = tally.statuses["report 201"] + tally.statuses["report replay 201"]
        replayed_200 = tally.statuses["report 200"] + tally.statuses["report replay 200"]
        figures += [
            ("reports sent (first sends)", args.reports),
            ("replays to the other server (same key, concurrent)", len(replaying)),
            ("answers: 201 created / 200 replayed", f"{created} / {replayed_200}"),
            ("requests stored (distinct keys / rows)", f"{len(stored)} / {total_rows}"),
            ("photos stored: rows / S3 objects (display + thumbnail)",
             f"{len(photo_rows)} / {len(objects)}"),
            ("push subscriptions stored", subscriptions),
            ("phones phase (page, report, replay, subscribe)",
             f"{report_seconds:.1f} s ({sum(tally.statuses.values()) / report_seconds:.0f} "
             "HTTP calls/s)"),
        ]
        if len(stored) != args.reports or any(n != 1 for _, n in stored):
            failures.append(f"{len(stored)} keys stored (want {args.reports}, each once)")
        if total_rows != args.reports:
            failures.append(f"{total_rows} request rows (want {args.reports})")
        if created != args.reports or replayed_200 != len(replaying):
            failures.append(f"{created} created / {replayed_200} replayed answers "
                            f"(want {args.reports} / {len(replaying)})")
        if len(photo_rows) != args.reports or referenced - objects:
            failures.append(f"{len(photo_rows)} photo rows, {len(referenced - objects)} "
                            "stored keys missing from S3")
        if len(objects) != 2 * args.reports:
            failures.append(f"{len(objects)} S3 objects (want {2 * args.reports})")
        if subscriptions != args.reports:
            failures.append(f"{subscriptions} push subscriptions (want {args.reports})")

        # 3: close everything, let both workers drain the outbox.
        phase = time.monotonic()
        close_all(phones, servers, args.threads, tally)
        close_seconds = time.monotonic() - phase
        mailed = sum(1 for p in phones if p.email)

        def drained() -> bool:
            waiting = query(url, "SELECT count(*) FROM notification_outbox "
                                 "WHERE state IN ('pending', 'sending')")[0][0]
            return (waiting == 0 and len(fake.deliveries) >= args.reports
                    and len(smtp.messages) >= 2 * mailed)

        try:
            wait_for(drained, "the workers to drain the outbox", args.drain_timeout, stack)
        except RuntimeError as error:
            failures.append(str(error))
        drain_seconds = time.monotonic() - phase - close_seconds
        time.sleep(2)  # anything sent twice would arrive now
        closed = query(url, "SELECT count(*) FROM service_requests WHERE status = 'closed' "
                            "AND client_uuid = ANY(%(keys)s)", {"keys": keys})[0][0]
        outbox = dict(query(url, "SELECT channel || ' ' || state, count(*) "
                                 "FROM notification_outbox GROUP BY 1"))
        per_endpoint = collections.Counter(d.endpoint for d in fake.deliveries)
        expected = {p.endpoint: p.public_id for p in phones if p.endpoint}
        wrong_payload = sum(
            1 for d in fake.deliveries
            if expected.get(d.endpoint) is None
            or expected[d.endpoint] not in json.dumps(d.payload)
        )
        # Each address gets the confirmation (on submit) and the closure mail, once each.
        letters = collections.Counter((m["To"], m["Subject"]) for m in smtp.messages)
        recipients = collections.Counter(to for to, _ in letters.elements())
        figures += [
            ("requests closed through the staff API", closed),
            ("close phase", f"{close_seconds:.1f} s"),
            ("outbox rows by channel and state", outbox),
            ("pushes delivered (verified + decrypted by the fake)", len(fake.deliveries)),
            ("subscriptions pushed exactly once / duplicates / never",
             f"{sum(1 for n in per_endpoint.values() if n == 1)} / "
             f"{sum(n - 1 for n in per_endpoint.values() if n > 1)} / "
             f"{len(expected) - len(per_endpoint)}"),
            ("pushes refused by the fake (VAPID, encryption)", len(fake.rejected)),
            ("e-mail addresses left / messages (confirmation + closure) / duplicates",
             f"{mailed} / {len(smtp.messages)} / "
             f"{sum(n - 1 for n in letters.values() if n > 1)}"),
            ("sent by worker 1 / worker 2",
             f"{worker_sent(stack, 'worker1')} / {worker_sent(stack, 'worker2')}"),
            ("drain after the last close", f"{drain_seconds:.1f} s"),
        ]
        if closed != args.reports:
            failures.append(f"{closed} closed (want {args.reports})")
        if len(fake.deliveries) != args.reports or len(per_endpoint) != args.reports:
            failures.append(f"{len(fake.deliveries)} pushes to {len(per_endpoint)} "
                            f"subscriptions (want {args.reports}, each once)")
        if wrong_payload or fake.rejected:
            failures.append(f"{wrong_payload} pushes about the wrong request, "
                            f"{len(fake.rejected)} refused by the push service")
        if (len(smtp.messages) != 2 * mailed or len(letters) != 2 * mailed
                or set(recipients) != {p.email for p in phones if p.email}):
            failures.append(f"{len(smtp.messages)} e-mails, {len(letters)} distinct, to "
                            f"{len(recipients)} addresses (want {2 * mailed} to {mailed})")

        # 4: the rate limit is one limit for both servers.
        burst = rate_limit_burst(servers, args.limit_burst, args.threads)
        redis_keys = subprocess.run(
            ["redis-cli", "-p", str(redis_port), "--scan", "--pattern", "*submit-address*"],
            capture_output=True, text=True, check=False).stdout.split()
        figures += [
            ("rate-limit burst: sent from one address over both servers", args.limit_burst),
            (f"  accepted (limit {SUBMIT_LIMIT}/hour) / refused 429 / other",
             f"{burst[201]} / {burst[429]} / "
             f"{sum(n for s, n in burst.items() if s not in (201, 429))}"),
            ("  submission counters per address held in Redis", len(redis_keys)),
            ("  a limit per process would have allowed up to",
             SUBMIT_LIMIT * 2 * args.gunicorn_workers),
        ]
        if burst[201] != SUBMIT_LIMIT or burst[429] != args.limit_burst - SUBMIT_LIMIT:
            failures.append(f"rate limit: {burst[201]} accepted, {burst[429]} refused "
                            f"(want {SUBMIT_LIMIT} and {args.limit_burst - SUBMIT_LIMIT})")

        figures += [
            ("client retries after a 5xx or dropped connection", tally.retries),
            ("answers by kind", dict(sorted(tally.statuses.items()))),
            ("mean answer time by kind (ms)", tally.mean_ms()),
            ("elapsed", f"{time.monotonic() - started:.1f} s"),
        ]
        if tally.retries or tally.problems:
            failures.append(f"{tally.retries} retries; first problems: {tally.problems[:5]}")
    except Exception as error:  # report, clean up, fail
        failures.append(f"run stopped: {error}")
    finally:
        stack.stop()
        if not args.keep:
            try:
                drop_database(url)
            except Exception as error:  # noqa: BLE001 - cleanup must go on
                failures.append(f"could not drop the database: {error}")
            shutil.rmtree(work, ignore_errors=True)

    print(f"Civic311 on two app servers + two workers ({args.reports} phones)")
    for label, value in figures:
        print(f"  {label:<58} {value}")
    if args.keep:
        print(f"  logs and instance folders kept in {work}; database {url}")
    for failure in failures:
        print(f"FAIL: {failure}")
    print("OK" if not failures else f"{len(failures)} check(s) failed")
    return 0 if not failures else 1


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--replay-share", type=float, default=0.2)
    parser.add_argument("--threads", type=int, default=16, help="phones in flight at once")
    parser.add_argument("--limit-burst", type=int, default=60,
                        help="reports from one address in the rate-limit burst")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                        help="a throwaway database: dropped and created again")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--seed-requests", type=int, default=20)
    parser.add_argument("--drain-timeout", type=float, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
