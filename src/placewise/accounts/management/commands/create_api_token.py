from django.core.management.base import BaseCommand, CommandError

from placewise.accounts.audit import record
from placewise.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Create a personal API token for USERNAME and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--label", default="command line")

    def handle(self, *args, username, label, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user called {username!r}")
        token, key = ApiToken.issue(user, label)
        record(None, "create_api_token", token, after={"user": username, "label": label})
        self.stdout.write(key)
