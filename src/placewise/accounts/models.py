"""Users, teams, roles, API tokens and the append-only audit trail."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    OFFICER = "officer", "Officer / PCSO"
    SUPERVISOR = "supervisor", "Supervisor (sergeant / inspector)"
    ANALYST = "analyst", "Analyst"
    PARTNER = "partner", "Partner"
    RESIDENT = "resident", "Resident"
    ADMIN = "admin", "Administrator"


# Roles that may see staff pages (maps, areas, data). Residents use the public side only.
STAFF_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ANALYST, Role.PARTNER, Role.ADMIN})
# Roles that may change reference data: imports, area definitions.
DATA_ROLES = frozenset({Role.ANALYST, Role.ADMIN})
# Roles that choose where to focus: run screens and back-tests, save runs.
SCREEN_ROLES = frozenset({Role.SUPERVISOR, Role.ANALYST, Role.ADMIN})


class Team(models.Model):
    """A neighbourhood team, usually attached to a neighbourhood policing unit."""

    name = models.CharField(max_length=120, unique=True)
    unit = models.ForeignKey(
        "places.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="teams"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.OFFICER)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    organisation = models.CharField(max_length=200, blank=True, help_text="For partners.")

    def has_role(self, *roles: str) -> bool:
        return self.is_active and (self.role in roles or self.is_superuser)

    @property
    def is_staff_role(self) -> bool:
        return self.has_role(*STAFF_ROLES)

    @property
    def can_manage_data(self) -> bool:
        return self.has_role(*DATA_ROLES)

    @property
    def can_screen(self) -> bool:
        return self.has_role(*SCREEN_ROLES)


class ApiToken(models.Model):
    """A personal API token. Only a hash is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    label = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    PREFIX = "pw_"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, label: str = "") -> tuple[ApiToken, str]:
        key = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, label=label, prefix=key[:10], key_hash=cls.hash_key(key)
        )
        return token, key

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.username})"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit trail is append-only")

    def delete(self):
        raise PermissionError("The audit trail is append-only")


class AuditEntry(models.Model):
    """One change: who, when, what, before and after. Never updated, never deleted."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=150, help_text="Kept if the user is removed.")
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # The record a change belongs to ("projects.project:12" for an action in project 12), so
    # a project's history lists its actions, assets and files, removed ones included.
    parent = models.CharField(max_length=80, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"
