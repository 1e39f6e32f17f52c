from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "placewise.core"
    label = "core"
