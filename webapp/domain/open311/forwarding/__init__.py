"""Forward requests to the city's own Open311 CRM and pull its updates back.

A department (or a single service) may have a ``ForwardTarget``: the CRM's Open311
endpoint, jurisdiction and the API key it issued us. A request for it gets a
``Forwarding`` row in the same transaction that stores the request, so nothing is
lost between the two systems. A worker then:

- **sends** due rows (``POST requests.xml``), each claimed with a lease so two
  workers never send the same one, with an ``Idempotency-Key`` that stays the same
  on every retry (a Civic311 CRM answers a retry with the request it already made)
  and a reference of ours at the end of the description. When an attempt may have
  reached the CRM without its answer reaching us (too slow, 5xx, a garbled answer),
  the next attempt first looks for it — by the ``token`` the CRM answered with, else
  by searching the CRM's requests of that service around that time for our
  reference — and sends again only when it is not there: never blind twice.
  Photos go as ``media_url`` links that are public, signed and expiring.
  Down, 5xx or too slow: retried with growing waits, up to ``FORWARD_MAX_ATTEMPTS``,
  then shown to staff as failed. A 4xx refusal is shown to staff at once as
  "rejected", with the CRM's own words; staff may send it again. Either way the
  request stays in our own queue, untouched.
- **passes on** what residents say here about a forwarded request (a public note,
  a reopening) as ``POST servicerequestupdates.xml``, once the request is there,
  with the same retries; the CRM's echo of it is not pulled back. A reopening is
  checked afterwards: if the CRM kept the request closed, staff see it as not
  accepted. A CRM without that extension gets a reopening as a new request that
  names the old one (the forwarding then follows the new id); a note it cannot take
  is shown to staff as not accepted;
- **pulls** updates (``GET servicerequestupdates.xml`` since the last pull, with a
  little overlap, page after page until the window is read; the window moves only
  as far as was read), or, when the CRM does not offer it, ``GET requests.xml`` of
  the forwarded ids in batches, and applies them to the timeline by FixMyStreet's
  acceptance rules (``open311/updates.py``), comparing each update's time with the
  CRM's time last seen for that request (never with our own clock).

Responses are read as GeoReport v2 XML, the format every Open311 server offers.

The modules, one job each: ``queueing`` (which requests go, their rows, staff's retry),
``crm_calls`` (HTTP to the CRM, its failures, the lookups), ``crm_payloads`` (what is
sent), ``sending`` (claim, attempt, record; the worker's round) and ``pulling`` (the
CRM's updates back). They may import the shared domain modules, ``open311`` and
``lifecycle`` (to record on the timeline).
"""
