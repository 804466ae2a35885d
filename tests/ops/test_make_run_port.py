"""`make run` serves on the port a newcomer names, so something else on 5000 is no obstacle."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _dry_run(*args: str, env_port: str | None = None) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {"PATH": "/usr/bin:/bin"}
    if env_port is not None:
        env["PORT"] = env_port
    # -n prints the recipe without running it; -W pretends the install stamps are fresh.
    done = subprocess.run(
        ["make", "-n", "-s", "-W", "pyproject.toml", "run", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60,
    )
    return next(line for line in done.stdout.splitlines() if " run --host" in line)


def test_make_run_serves_on_port_5000_by_default():
    assert _dry_run().endswith("--port 5000")


def test_make_run_honours_port_from_the_environment_and_the_command_line():
    assert _dry_run(env_port="8123").endswith("--port 8123")
    assert _dry_run("PORT=8124").endswith("--port 8124")
