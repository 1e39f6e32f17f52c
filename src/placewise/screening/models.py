"""Saved screening runs: parameters, data window and a snapshot of the results."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ScreeningRun(models.Model):
    """A screen as it was run: reproducible from its parameters, citable by its number."""

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200, blank=True)
    level = models.CharField(max_length=20)
    cell_m = models.PositiveIntegerField(null=True, blank=True)
    start = models.DateField()
    end = models.DateField()
    scope = models.CharField(max_length=200)
    within = models.ForeignKey(
        "places.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    categories = models.JSONField(default=list)
    weights = models.JSONField(default=dict)
    harm_scheme = models.CharField(max_length=300)
    neighbours = models.CharField(max_length=200)
    rows = models.JSONField(default=list, help_text="The ranked table as it was.")
    place_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title or f"Screening run {self.pk}"

    def row(self, code: str) -> dict | None:
        return next((r for r in self.rows if r.get("code") == code), None)


class BacktestRun(models.Model):
    """A back-test as run: its figures, and the method it suggests for this data."""

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    level = models.CharField(max_length=20)
    cell_m = models.PositiveIntegerField(null=True, blank=True)
    scope = models.CharField(max_length=200)
    test_from = models.DateField()
    test_to = models.DateField()
    train_months = models.PositiveSmallIntegerField()
    records = models.JSONField(default=list)
    suggested = models.CharField(max_length=40, blank=True)
    suggested_coverage = models.FloatField(null=True)
    runner_up = models.CharField(max_length=40, blank=True)
    margin = models.JSONField(
        default=list, help_text="Suggested minus runner-up PAI: mean, low, high."
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Back-test {self.pk}: {self.suggested}"

    @property
    def clear_winner(self) -> bool:
        """The runner-up's interval excludes a tie: the suggestion is more than a coin flip."""
        return bool(self.margin) and self.margin[1] is not None and self.margin[1] > 0

    def suggested_pai(self) -> float | None:
        for r in self.records:
            if r["method"] == self.suggested and r["coverage"] == self.suggested_coverage:
                return r["pai"]
        return None
