"""The text-message door: the provider's webhook (``POST /sms/incoming``).

A 404 while the provider is not configured; a 403 unless the provider's signature
checks out for the public address of the webhook (``PUBLIC_URL`` + path, never the
``Host`` the call came in with) and the call is for the city's account and number.
The view is thin: the rules are ``webapp.domain.texting``.
"""

from webapp.sms import views  # noqa: F401  (registers the routes)
from webapp.sms.blueprint import bp

__all__ = ["bp"]
