"""gunicorn settings for Civic311 (``gunicorn -c gunicorn.conf.py 'webapp:create_app()'``).

Threaded workers: a slow client or a long download (an export) occupies one thread,
not a whole worker, and the worker keeps telling the arbiter it is alive, so
``timeout`` never kills a response that is still streaming. ``timeout`` then only
catches a worker that is truly stuck.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 60
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
