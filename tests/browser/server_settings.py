"""Settings of the web server the browser tests start: the real settings, pointed at the test database.

Only what a test server needs differs: the database name (pytest-django's test database,
whose name is only known once it exists) and static files served by WhiteNoise straight from
the finders, so no collectstatic run is needed. DEBUG stays off, as in production.
"""

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["PROJECTR_BROWSER_DB_NAME"]
WHITENOISE_USE_FINDERS = True
