from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_harm(sender, **kwargs):
    from .actions import do_seed_harm_scheme
    from .models import HarmScheme

    if not HarmScheme.objects.exists():
        do_seed_harm_scheme()


class IncidentsConfig(AppConfig):
    name = "placewise.incidents"
    label = "incidents"

    def ready(self):
        post_migrate.connect(_seed_harm, sender=self)
