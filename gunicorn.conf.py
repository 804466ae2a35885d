"""gunicorn settings for Civic311 (``gunicorn -c gunicorn.conf.py 'webapp:create_app()'``).

Open311 clients such as FixMyStreet sync a city's backlog with one
``GET requests.xml?service_request_id=<every open id>``: thousands of ids in one
request line. gunicorn refuses lines over 4,094 bytes by default (at most 8,190 can
be set) with a bare 414 of its own; 0 lifts the limit (1 MB with gunicorn's fast
parser). gunicorn reads this file by itself when started from the project folder. The app keeps its
own, configurable limits (``OPEN311_MAX_IDS``, ``OPEN311_MAX_QUERY_BYTES``) and
answers them in the Open311 error shape.
"""

limit_request_line = 0
