from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "placewise.api"
    label = "api"
