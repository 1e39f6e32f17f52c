from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "placewise.screening"
    label = "screening"
