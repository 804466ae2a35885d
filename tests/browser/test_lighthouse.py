"""Google Lighthouse's accessibility audit of the home page, as a Spanish-speaking
resident gets it: the score must be 100.

Lighthouse (pinned in tools/lighthouse, installed by ``make test``) drives its own
headless Chromium against the live app with ``Accept-Language: es`` and phone emulation.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests import factories
from tests.browser.conftest import chromium_path
from tests.conftest import skip_or_fail
from webapp.plumbing.extensions import db

LIGHTHOUSE = Path(__file__).resolve().parents[2] / "tools/lighthouse/node_modules/.bin/lighthouse"


def _audit(url: str, language: str, report: Path) -> dict:
    subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--only-categories=accessibility",
            f'--extra-headers={{"Accept-Language": "{language}"}}',
            f"--chrome-flags=--headless=new --no-sandbox --lang={language}",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
        ],
        check=True,
        timeout=180,
        env={**os.environ, "CHROME_PATH": chromium_path()},
    )
    return json.loads(report.read_text())


def test_home_page_in_spanish_scores_100_for_accessibility(
    request, live_app, live_server, tmp_path
):
    if not LIGHTHOUSE.exists():
        skip_or_fail(request.config, "Lighthouse is not installed (make lighthouse-tool)")
    with live_app.app_context():
        factories.gen_city()
        db.session.remove()
    result = _audit(f"{live_server.base_url}/", "es", tmp_path / "report.json")
    failing = {
        key: audit["title"]
        for key, audit in result["audits"].items()
        if audit.get("scoreDisplayMode") == "binary" and audit.get("score") == 0
    }
    assert result["categories"]["accessibility"]["score"] == 1, failing
    assert result["audits"]["html-has-lang"]["score"] == 1
    assert result["audits"]["html-lang-valid"]["score"] == 1
