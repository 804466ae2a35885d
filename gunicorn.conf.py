"""gunicorn settings for Civic311 (``gunicorn -c gunicorn.conf.py 'webapp:create_app()'``).

gunicorn reads this file by itself when started from the project folder.

Threaded workers: a slow client or a long download (an export) occupies one thread,
not a whole worker, and the worker keeps telling the arbiter it is alive, so
``timeout`` never kills a response that is still streaming. ``timeout`` then only
catches a worker that is truly stuck.

Live chat: each open chat page holds one thread for a short stream (Server-Sent
Events, at most ``CHAT_STREAM_SECONDS``, 25 s, then the browser reconnects). So each
worker runs 24 threads, of which at most ``CHAT_MAX_STREAMS`` (16) hold streams and at
least 8 always serve pages and the API: 2 workers hold 32 streams, 16 chats with both
the resident and the call-taker watching. Streams hold no database connection while
they wait. More chats: raise ``GUNICORN_THREADS`` and ``CHAT_MAX_STREAMS`` together, or
run more servers with ``REDIS_URL`` (docs/chat.md).

Long request lines: Open311 clients such as FixMyStreet sync a city's backlog with one
``GET requests.xml?service_request_id=<every open id>``: thousands of ids in one
request line. gunicorn refuses lines over 4,094 bytes by default (at most 8,190 can
be set) with a bare 414 of its own; 0 lifts the limit. The app keeps its own,
configurable limits (``OPEN311_MAX_IDS``, ``OPEN311_MAX_QUERY_BYTES``) and answers
them in the Open311 error shape.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "24"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 60
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
limit_request_line = 0


# Prometheus metrics across workers: with PROMETHEUS_MULTIPROC_DIR set (an empty folder
# only this server uses), every worker writes its counts there and /metrics sums them.
# The folder is emptied when gunicorn starts, and a worker that exits has its live
# gauges dropped (its counters stay in the sums).
def on_starting(server):
    """Start from an empty metrics folder (old workers' files would be summed in)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    """Forget the exited worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
