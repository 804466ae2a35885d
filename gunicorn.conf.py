"""gunicorn settings for Civic311 (``gunicorn -c gunicorn.conf.py 'webapp:create_app()'``).

Open311 clients such as FixMyStreet sync a city's backlog with one
``GET requests.xml?service_request_id=<every open id>``: thousands of ids in one
request line. gunicorn refuses lines over 8,190 bytes with a bare 414 unless the
limit is lifted; 0 lifts it (1 MB with gunicorn's fast parser). The app keeps its
own, configurable limits (``OPEN311_MAX_IDS``, ``OPEN311_MAX_QUERY_BYTES``) and
answers them in the Open311 error shape.
"""

limit_request_line = 0
