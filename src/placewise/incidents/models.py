"""Crime and ASB records as police.uk publishes them, imports, and harm weights."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from placewise.lib.policeuk import POLICE_UK_CATEGORIES

ASB = "Anti-social behaviour"


class ImportRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=20, default="cli", help_text="cli, upload or demo")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    inputs = models.JSONField(default=list, help_text="Names of the files given.")
    upload_dir = models.CharField(max_length=300, blank=True)
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    current_file = models.CharField(max_length=300, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rejections = models.JSONField(default=dict, help_text="Reason -> count.")
    months = models.JSONField(default=list)
    forces = models.JSONField(default=list)
    notes = models.JSONField(default=list, help_text="Skipped files and replaced slices.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.bytes_total:
            return 0
        return min(99, int(100 * self.bytes_done / self.bytes_total))

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    def summary(self) -> dict:
        return {
            "import_id": self.pk,
            "status": self.status,
            "rows_read": self.rows_read,
            "rows_imported": self.rows_imported,
            "rows_rejected": self.rows_rejected,
            "rejections": self.rejections,
            "months": self.months,
            "forces": self.forces,
            "notes": self.notes,
            "error": self.error,
        }


class Rejection(models.Model):
    """An input row that was not imported, and why."""

    import_run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rejected")
    file_name = models.CharField(max_length=300)
    row_number = models.PositiveIntegerField(help_text="Line in the file; the header is line 1.")
    field = models.CharField(max_length=60, blank=True)
    reason = models.CharField(max_length=60, help_text="A short reason, counted in the summary.")
    detail = models.CharField(max_length=300, blank=True)
    raw = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]


class Incident(models.Model):
    """One police.uk street-level record (crime or anti-social behaviour)."""

    # No index or constraint: rows are written in bulk, and DataSlice says which import
    # each (force, month) came from.
    import_run = models.ForeignKey(
        ImportRun,
        null=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    force = models.CharField(max_length=120, help_text="'Falls within', as published.")
    month = models.DateField(help_text="First day of the month.")
    crime_id = models.CharField(max_length=64, blank=True)
    reported_by = models.CharField(max_length=120)
    longitude = models.FloatField(null=True)
    latitude = models.FloatField(null=True)
    # British National Grid metres, derived at import so the database can group incidents
    # into grid cells of any size (screening) without reading every row into Python.
    easting = models.IntegerField(null=True)
    northing = models.IntegerField(null=True)
    location = models.CharField(max_length=200, blank=True)
    lsoa_code = models.CharField(max_length=9, blank=True)
    lsoa_name = models.CharField(max_length=120, blank=True)
    lsoa_vintage = models.CharField(max_length=4, blank=True)
    category = models.CharField(max_length=40)
    outcome = models.CharField(max_length=200, blank=True)
    context = models.TextField(blank=True)

    class Meta:
        # One index only: every index slows the bulk import. Figures come from MonthlyCount;
        # incident rows are read by month (custom polygons) and replaced by (force, month).
        indexes = [models.Index(fields=["month", "force"], name="incident_month_force")]


class DataSlice(models.Model):
    """One force's month as stored: which import it came from and how many rows it has."""

    force = models.CharField(max_length=120)
    month = models.DateField()
    import_run = models.ForeignKey(ImportRun, on_delete=models.PROTECT, related_name="slices")
    rows = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["force", "month"]
        constraints = [models.UniqueConstraint(fields=["force", "month"], name="slice_unique")]


class MonthlyCount(models.Model):
    """Incidents per force, month, LSOA and category; rewritten with each imported slice."""

    force = models.CharField(max_length=120)
    month = models.DateField()
    lsoa_code = models.CharField(max_length=9, blank=True, help_text="Empty: no location.")
    category = models.CharField(max_length=40)
    n = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["month", "lsoa_code"], name="count_month_lsoa"),
            models.Index(fields=["lsoa_code", "month"], name="count_lsoa_month"),
            models.Index(fields=["force", "month"], name="count_force_month"),
        ]


class HarmScheme(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=300, blank=True)
    is_default = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name

    def weights(self) -> dict[str, float]:
        """Weight per police.uk category; ASB falls back to the setting when not set here.

        Read once per instance: a page that shows several figures asks for them many times.
        """
        if not hasattr(self, "_weights"):
            self._weights = {w.category: w.weight for w in self.weight_rows.all()}
        table = dict(self._weights)
        table.setdefault(ASB, settings.PLACEWISE_ASB_HARM_WEIGHT)
        return table

    def forget_weights(self) -> None:
        self.__dict__.pop("_weights", None)

    def label(self) -> str:
        asb = self.weights()[ASB]
        return f"{self.name} (ASB weight {asb:g})"


class HarmWeight(models.Model):
    scheme = models.ForeignKey(HarmScheme, on_delete=models.CASCADE, related_name="weight_rows")
    category = models.CharField(max_length=40, choices=[(c, c) for c in POLICE_UK_CATEGORIES])
    weight = models.FloatField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["category"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "category"], name="harm_weight_unique")
        ]
