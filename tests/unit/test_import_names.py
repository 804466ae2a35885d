"""Every name taken from our own code exists where it is taken from (``tools/check_import_names.py``):
a module split or moved leaves no stale import or ``module.attr`` behind, even in code the
suite never runs (bench scripts, worker commands, skipped tests)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _checker():
    spec = importlib.util.spec_from_file_location("check_import_names", ROOT / "tools" / "check_import_names.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_imported_name_of_ours_resolves():
    assert _checker().all_problems() == []


def test_a_stale_import_and_a_stale_attribute_are_found(tmp_path):
    stale = tmp_path / "stale.py"
    stale.write_text(
        "from webapp.domain.notifications import outbox\n"
        "from webapp.domain.open311.forwarding import sending, no_such_module\n"
        "from webapp.domain.notifications.mail import deliver_due\n"
        "\n"
        "def run(monkeypatch):\n"
        "    from webapp.domain.intake import mailbox\n"
        "\n"
        "    monkeypatch.setattr(outbox, 'no_such_rule', None)\n"
        "    return sending.send_due() + sending.poll_crm() + mailbox.poll()\n"
    )

    found = _checker().problems_in(stale)

    assert [line.split(": ", 1)[1] for line in found] == [
        "webapp.domain.open311.forwarding has no no_such_module",
        "no module webapp.domain.notifications.mail",
        "webapp.domain.notifications.outbox has no no_such_rule",
        "webapp.domain.open311.forwarding.sending has no poll_crm",
    ]
