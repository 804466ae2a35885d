"""Staff console: the queue and the request workbench."""

from webapp.staff import chat_views, desk_views, views, work_views  # noqa: E402,F401
from webapp.staff.blueprint import bp  # noqa: F401 (create_app registers it)
