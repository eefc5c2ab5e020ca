import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
_django = get_wsgi_application()

# Phones' plain OsmAnd fixes are stored in front of Django's request handling (patrol.front).
from civicgrid.patrol.front import OsmandFront  # noqa: E402  (needs the apps loaded)

application = OsmandFront(_django)
