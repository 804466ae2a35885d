"""Several app servers on one database, for real: ``bench/multi_server.py`` at a small size.

The script starts two gunicorn app servers, two notification workers, Redis, moto's S3
server, the fake push service and the fake SMTP relay as separate processes, sends 100
photo reports (a fifth replayed to the other server with the same key, at once),
subscribes every phone to push, closes every report through the staff API and bursts
one address over both servers. It exits non-zero when a count is off: a report stored
twice, a photo missing from S3, a push or e-mail sent twice or never, a rate limit
counted per server.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]


def test_two_servers_and_two_workers_keep_every_count_exact(request, database_backend):
    kind, url = database_backend
    if kind != "postgres":
        pytest.skip("several processes write at once: runs in the PostgreSQL pass")
    for program in ("redis-server", "redis-cli"):
        if shutil.which(program) is None:
            skip_or_fail(request.config, f"{program} is not installed (apt-get install redis-server)")
    parts = urlsplit(url)
    # A database of its own beside the suite's, dropped again by the script.
    run_url = parts._replace(path=f"{parts.path}_multi").geturl()
    done = subprocess.run(
        [
            sys.executable, str(ROOT / "bench" / "multi_server.py"),
            "--reports", "100", "--threads", "8", "--limit-burst", "30",
            "--gunicorn-workers", "1", "--seed-requests", "0",
            "--drain-timeout", "60", "--database-url", run_url,
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=200, check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "requests stored (distinct keys / rows)" in output
    assert output.rstrip().endswith("OK"), output
