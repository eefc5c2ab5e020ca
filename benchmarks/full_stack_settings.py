"""The platform's settings without the health shortcut, for ``positions.py``'s second
reference: ``GET /api/v1/health`` then passes the whole middleware stack and the API, as
it did when issue 14's goal was written (before ``config.middleware.HealthShortcut``)."""

from civicgrid.config.settings import *  # noqa: F403
from civicgrid.config.settings import MIDDLEWARE as _ALL

MIDDLEWARE = [name for name in _ALL if not name.endswith(".HealthShortcut")]
