"""Areas: force, unit, neighbourhood, LSOA, impact area and custom polygons."""

from __future__ import annotations

import json
from functools import cached_property

from django.conf import settings
from django.db import models


class AreaKind(models.TextChoices):
    FORCE = "force", "Force"
    UNIT = "unit", "Neighbourhood policing unit"
    NEIGHBOURHOOD = "neighbourhood", "Neighbourhood"
    IMPACT_AREA = "impact_area", "Impact area"
    LSOA = "lsoa", "LSOA"
    CUSTOM = "custom", "Custom area"


# Kinds made of whole LSOAs; their incidents are found by LSOA code.
GROUP_KINDS = frozenset({AreaKind.UNIT, AreaKind.NEIGHBOURHOOD, AreaKind.IMPACT_AREA})


class Area(models.Model):
    kind = models.CharField(max_length=20, choices=AreaKind.choices, db_index=True)
    code = models.CharField(max_length=64, help_text="ONS code for an LSOA; a slug otherwise.")
    name = models.CharField(max_length=200)
    vintage = models.CharField(
        max_length=8, blank=True, help_text="Boundary vintage for statistical areas, e.g. 2011."
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    force_name = models.CharField(
        max_length=120, blank=True, help_text="For a force: its name as police.uk publishes it."
    )
    # GeoJSON geometry (WGS84) as text; bounding box kept for quick point filters.
    geometry = models.TextField(blank=True)
    min_lon = models.FloatField(null=True, blank=True)
    min_lat = models.FloatField(null=True, blank=True)
    max_lon = models.FloatField(null=True, blank=True)
    max_lat = models.FloatField(null=True, blank=True)
    centroid_lon = models.FloatField(null=True, blank=True)
    centroid_lat = models.FloatField(null=True, blank=True)
    centroid_source = models.CharField(max_length=60, blank=True)
    population = models.PositiveIntegerField(null=True, blank=True)
    population_source = models.CharField(max_length=120, blank=True)
    households = models.PositiveIntegerField(null=True, blank=True)
    hectares = models.FloatField(null=True, blank=True)
    imd_rank = models.PositiveIntegerField(null=True, blank=True)
    imd_decile = models.PositiveSmallIntegerField(null=True, blank=True)
    crime_rank = models.PositiveIntegerField(null=True, blank=True)
    crime_decile = models.PositiveSmallIntegerField(null=True, blank=True)
    deprivation_source = models.CharField(max_length=120, blank=True)
    local_authority_code = models.CharField(max_length=9, blank=True)
    local_authority_name = models.CharField(max_length=120, blank=True)
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    members = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        through="AreaMembership",
        through_fields=("group", "lsoa"),
        related_name="groups",
    )

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="area_kind_code")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    @property
    def is_group(self) -> bool:
        return self.kind in GROUP_KINDS

    @cached_property
    def geometry_dict(self) -> dict | None:
        return json.loads(self.geometry) if self.geometry else None

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        box = (self.min_lon, self.min_lat, self.max_lon, self.max_lat)
        if any(v is None for v in box):
            return None
        return box  # type: ignore[return-value]


class AreaMembership(models.Model):
    """An LSOA belonging to a group area (unit, neighbourhood, impact area, force)."""

    group = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="memberships")
    lsoa = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="group_memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "lsoa"], name="membership_unique")]
