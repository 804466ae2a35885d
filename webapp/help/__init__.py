"""Public help: the city's knowledge answers at /help and /help/<slug>."""

from webapp.help import views  # noqa: E402,F401
from webapp.help.blueprint import bp  # noqa: F401 (create_app registers it)
