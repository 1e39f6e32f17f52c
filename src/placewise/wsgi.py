import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "placewise.settings")
application = get_wsgi_application()

from placewise.core.startup import prepare_worker  # noqa: E402 - needs Django set up

prepare_worker()
