"""gunicorn settings for Civic311 (``gunicorn -c gunicorn.conf.py 'webapp:create_app()'``).

gunicorn reads this file by itself when started from the project folder.

Threaded workers: a slow client or a long download (an export) occupies one thread,
not a whole worker, and the worker keeps telling the arbiter it is alive, so
``timeout`` never kills a response that is still streaming. ``timeout`` then only
catches a worker that is truly stuck.

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
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 60
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
limit_request_line = 0
