"""Plumbing: what every request and process needs before a rule runs.

Configuration (``config``), the unbound extension objects (``extensions``), the database
binding (``database``), who is calling (``sessions``), who may call a route (``access``),
CSRF, rate limits and headers (``security``, ``limits``), the rules of outside input at
every door (``inputs``), negotiated errors (``errors``), hashed static files (``assets``)
and the checks of a production deployment (``deployment``).

May import: the models and the domain's shared modules and rules it calls for the
request (a device, an account, an input rule). Never a blueprint.
"""
