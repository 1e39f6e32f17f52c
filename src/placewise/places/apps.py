from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "placewise.places"
    label = "places"
