"""Worker heartbeats: each worker loop stamps its row after every round.

One row per worker name and machine (``host``), updated in place, so the table stays
as small as the fleet. ``/metrics`` reports the stamps; an alert fires when one goes
stale (see ``docs/monitoring.md``). A stamp that cannot be written (the database is
down) is skipped: the next round tries again.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from webapp.models import WorkerHeartbeat, utcnow
from webapp.plumbing.extensions import db


def beat(worker: str, now: datetime | None = None, host: str | None = None) -> None:
    """Record that ``worker`` on this machine just finished a round, and commit."""
    at = now or utcnow()
    where = (host or socket.gethostname())[:120]
    changed = db.session.execute(
        update(WorkerHeartbeat)
        .where(WorkerHeartbeat.worker == worker, WorkerHeartbeat.host == where)
        .values(beat_at=at, pid=os.getpid(), rounds=WorkerHeartbeat.rounds + 1)
    ).rowcount
    if not changed:
        db.session.add(
            WorkerHeartbeat(worker=worker, host=where, pid=os.getpid(), beat_at=at, rounds=1)
        )
    try:
        db.session.commit()
    except IntegrityError:  # another thread of the same worker inserted it first
        db.session.rollback()


def latest(worker: str) -> WorkerHeartbeat | None:
    """The most recent stamp of ``worker`` on any machine."""
    return db.session.scalars(
        select(WorkerHeartbeat)
        .where(WorkerHeartbeat.worker == worker)
        .order_by(WorkerHeartbeat.beat_at.desc())
        .limit(1)
    ).first()
