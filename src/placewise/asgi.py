import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "placewise.settings")
application = get_asgi_application()

from placewise.core.startup import prepare_worker  # noqa: E402 - needs Django set up

prepare_worker()
