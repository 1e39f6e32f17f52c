from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "placewise.accounts"
    label = "accounts"
