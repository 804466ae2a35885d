"""First load of ``/`` on a phone: bytes over the wire, compressed vs uncompressed.

Starts the app on a throwaway SQLite database seeded with the demo city, opens ``/`` in
headless Chromium with a fresh profile (phone viewport), waits for the service worker to
finish precaching the app shell, and adds up what was transferred (headers + encoded
bodies, as Chromium reports them) for everything except map tiles and user photos. The
counting is ``tests/browser/first_load.py``'s, which ``tests/browser/test_first_load.py``
holds to the same budget. The baseline is the same set of URLs fetched uncompressed
(``Accept-Encoding: identity``) in the same run. Target: at most 120 KB compressed in
total. It also prints what reached the server: requests, and files downloaded twice.

Then runs Lighthouse (mobile) on ``/`` and prints the performance and accessibility scores
(targets 90 / 95): the project's pinned Lighthouse (``make lighthouse-tool``, the one the
test suite's audit uses) when installed, else 13.5.0 through ``npx``.

Usage: ``.venv/bin/python bench/bench_first_load.py [--no-lighthouse]``
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import CHROMIUM_ARGS, chromium_path  # noqa: E402
from tests.browser.first_load import (  # noqa: E402
    BUDGET_KB,
    EXCLUDED,
    ServerTally,
    record_first_load,
)
from tests.fakes import serve  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.plumbing.config import TestingConfig  # noqa: E402
from webapp.plumbing.extensions import db  # noqa: E402
from webapp.seed.demo import seed_demo  # noqa: E402

TARGET_KB = BUDGET_KB
LIGHTHOUSE = "lighthouse@13.5.0"
LIGHTHOUSE_METRICS = (
    "first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
    "cumulative-layout-shift", "speed-index",
)  # fmt: skip
PINNED_LIGHTHOUSE = ROOT / "tools/lighthouse/node_modules/.bin/lighthouse"
LIGHTHOUSE_TARGETS = {"performance": 90, "accessibility": 95}


def build_app(folder: Path):
    """The app with production-like settings on a seeded demo database."""
    settings = {key: getattr(TestingConfig, key) for key in dir(TestingConfig) if key.isupper()}
    # Not testing: production refuses a guessable key and wants the public address.
    settings.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'bench.db'}",
        UPLOAD_DIR=str(folder / "uploads"),
        INSTANCE_DIR=str(folder / "instance"),
        TESTING=False,
        SECRET_KEY=secrets.token_urlsafe(48),
        PUBLIC_URL="http://localhost",
    )
    app = create_app(settings)
    with app.app_context():
        upgrade()
        seed_demo(request_count=50)
        db.session.remove()
    return app


def load_home(base_url: str) -> list[dict]:
    """Open ``/`` in a fresh profile; return every network transfer of the first load."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            return record_first_load(browser, base_url)
        finally:
            browser.close()


def uncompressed_bytes(app, url: str, headers_size: int) -> int:
    """The same URL's size served without compression (same headers size assumed).

    A URL listed a second time (the worker precaching what the page already loaded,
    taken from the browser's cache) costs the same either way, so it counts as measured.
    """
    path = url.split("://", 1)[1].split("/", 1)[1]
    with app.test_client().get("/" + path, headers={"Accept-Encoding": "identity"}) as response:
        return headers_size + len(response.get_data())


def run_lighthouse(base_url: str) -> dict | None:
    """Lighthouse mobile scores for ``/``, or None when it cannot run here."""
    if PINNED_LIGHTHOUSE.exists():
        runner = [str(PINNED_LIGHTHOUSE)]
    elif shutil.which("npx"):
        runner = ["npx", "--yes", LIGHTHOUSE]
    else:
        print("Lighthouse: skipped (neither make lighthouse-tool nor npx)")
        return None
    print("Lighthouse:", " ".join(runner[-1:]) if runner[0] == "npx" else PINNED_LIGHTHOUSE)
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        command = [
            *runner, base_url + "/",
            "--only-categories=performance,accessibility,best-practices",
            "--output=json", f"--output-path={report}", "--quiet",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ]  # fmt: skip
        environment = {**os.environ, "CHROME_PATH": chromium_path() or "/usr/bin/chromium"}
        try:
            finished = subprocess.run(
                command, env=environment, capture_output=True, text=True, timeout=300
            )
        except subprocess.TimeoutExpired:
            print("Lighthouse: skipped (timed out)")
            return None
        if finished.returncode != 0 or not report.exists():
            print("Lighthouse: skipped:", (finished.stderr or finished.stdout).strip()[-400:])
            return None
        result = json.loads(report.read_text())
        scores = {name: round(c["score"] * 100) for name, c in result["categories"].items()}
        metrics = {name: result["audits"][name]["displayValue"] for name in LIGHTHOUSE_METRICS}
        print("Lighthouse metrics:", ", ".join(f"{k} {v}" for k, v in metrics.items()))
        return scores


def print_table(rows: list[tuple[str, int, int]]) -> None:
    """Figure, baseline, ratio."""
    print(f"{'first load of /':<34}{'compressed KB':>15}{'uncompressed KB':>17}{'ratio':>8}")
    for label, compressed, plain in rows:
        ratio = compressed / plain if plain else 0
        print(f"{label:<34}{compressed / 1024:>15.1f}{plain / 1024:>17.1f}{ratio:>8.2f}")


def main() -> int:
    """Measure, print the table, and the Lighthouse scores when available."""
    if chromium_path() is None:
        print("Chromium is not installed (apt-get install chromium)")
        return 1
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        tally = ServerTally(app.wsgi_app)
        app.wsgi_app = tally
        server = serve(app)
        base_url = f"http://localhost:{server.port}"
        try:
            transfers = [t for t in load_home(base_url) if not EXCLUDED.search(t["url"])]
            app.wsgi_app = tally.wsgi_app  # the uncompressed probes below are not the load
            reached = tally.seen
            seen: set[str] = set()
            for transfer in transfers:
                repeat = transfer["url"] in seen
                seen.add(transfer["url"])
                transfer["plain"] = (
                    transfer["bytes"]
                    if repeat
                    else uncompressed_bytes(app, transfer["url"], transfer["headers"])
                )
            page = [t for t in transfers if not t["worker"]]
            worker = [t for t in transfers if t["worker"]]
            rows = [
                (f"page ({len(page)} requests)", sum(t["bytes"] for t in page),
                 sum(t["plain"] for t in page)),
                (f"service worker precache ({len(worker)})", sum(t["bytes"] for t in worker),
                 sum(t["plain"] for t in worker)),
                ("total", sum(t["bytes"] for t in transfers), sum(t["plain"] for t in transfers)),
            ]  # fmt: skip
            print_table(rows)
            total_kb = rows[-1][1] / 1024
            verdict = "meets" if total_kb <= TARGET_KB else "misses"
            print(f"total {total_kb:.1f} KB {verdict} the {TARGET_KB} KB target")
            twice = tally.downloaded_twice()
            revalidated = [url for url, status in reached if status == 304]
            print(
                f"reached the server: {len(reached)} requests, {len(revalidated)} answered 304 "
                f"({', '.join(revalidated) or 'none'}); files downloaded twice: "
                f"{', '.join(f'{u} ×{n}' for u, n in twice.items()) or 'none'}"
            )
            if "--verbose" in sys.argv:
                for t in sorted(transfers, key=lambda t: -t["bytes"]):
                    print(
                        f"  {t['bytes']:>8} {t['plain']:>8}  {'sw ' if t['worker'] else ''}{t['url']}"
                    )
            if "--no-lighthouse" not in sys.argv:
                scores = run_lighthouse(base_url)
                if scores:
                    print(f"{'Lighthouse mobile /':<34}{'score':>15}{'target':>17}")
                    for name, score in scores.items():
                        target = LIGHTHOUSE_TARGETS.get(name, "")
                        print(f"{name:<34}{score:>15}{target:>17}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
