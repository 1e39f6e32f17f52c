from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_templates(sender, **kwargs):
    from .actions import do_seed_process_templates

    do_seed_process_templates()


class ProjectsConfig(AppConfig):
    name = "placewise.projects"
    label = "projects"

    def ready(self):
        post_migrate.connect(_seed_templates, sender=self)
        # Rich pictures and meetings register their rules for editing records.
        from . import pictures  # noqa: F401
