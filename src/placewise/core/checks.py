"""System checks that ``placewise check --deploy`` runs for a production deployment."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def demo_mode_off(app_configs, **kwargs):
    if settings.DEMO_MODE:
        return [
            Error(
                "PLACEWISE_DEMO is on: demo logins with printed passwords can be created.",
                hint="Set PLACEWISE_DEMO=false in production.",
                id="placewise.E001",
            )
        ]
    return []
