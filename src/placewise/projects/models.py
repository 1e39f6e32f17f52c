"""Intensive Engagement projects: a place, a process template, its steps, and reviews."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

from django.conf import settings
from django.db import models

from placewise.lib.process_templates import DoseResult, Template, dose, parse_template


class ProjectPart:
    """A record that belongs to one project: its audit entries name the project, so the
    project's history page shows them."""

    project_id: int

    @property
    def audit_parent(self) -> str:
        return f"projects.project:{self.project_id}"


class ProcessTemplate(models.Model):
    """A process (LISP 8-step, West Mercia IE 8-step, SARA or a force's own) as data."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    definition = models.JSONField(help_text="The template file's content (see the README).")
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name"]

    def __str__(self) -> str:
        return self.name

    @cached_property
    def parsed(self) -> Template:
        return parse_template(self.definition, f"template {self.slug}")


class Project(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    class Review(models.TextChoices):
        NOT_SUBMITTED = "not_submitted", "Not yet reviewed"
        SUBMITTED = "submitted", "Submitted for review"
        SIGNED_OFF = "signed_off", "Signed off"
        RETURNED = "returned", "Returned with feedback"

    title = models.CharField(max_length=200)
    area = models.ForeignKey("places.Area", on_delete=models.PROTECT, related_name="projects")
    purpose = models.TextField()
    template = models.ForeignKey(ProcessTemplate, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="projects"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    review_status = models.CharField(
        max_length=16, choices=Review.choices, default=Review.NOT_SUBMITTED
    )
    start_date = models.DateField()
    plan_weeks = models.PositiveSmallIntegerField(default=40)
    # The screening evidence a project was started from (step 1's justification).
    screening_run = models.ForeignKey(
        "screening.ScreeningRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="projects",
    )
    evidence = models.JSONField(default=dict, blank=True)
    is_demo = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-last_activity", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def end_date(self) -> dt.date:
        return self.start_date + dt.timedelta(weeks=self.plan_weeks)

    def get_absolute_url(self) -> str:
        return f"/projects/{self.pk}/"

    def week(self, today: dt.date | None = None) -> int:
        """Which week of the plan today falls in (1-based; 0 before the start)."""
        days = ((today or dt.date.today()) - self.start_date).days
        return 0 if days < 0 else days // 7 + 1

    @property
    def audit_key(self) -> str:
        """How the audit entries of this project's records name it."""
        return f"projects.project:{self.pk}"

    def dose(self, steps=None) -> DoseResult:
        rows = steps if steps is not None else self.steps.all()
        return dose({s.number: s.self_score for s in rows}, self.template.parsed)


class ProjectMember(ProjectPart, models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", "Lead"
        MEMBER = "member", "Team member"
        PARTNER = "partner", "Partner"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="project_member_unique")
        ]


class ProjectStep(ProjectPart, models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="steps")
    number = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NOT_STARTED)
    answers = models.JSONField(default=dict, blank=True, help_text="Prompt number -> answer.")
    notes = models.TextField(blank=True)
    self_score = models.PositiveSmallIntegerField(null=True, blank=True)
    # Optimistic locking: a save names the version it started from; a stale one is refused.
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="project_step_unique")
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"

    @property
    def template_step(self):
        return self.project.template.parsed.step(self.number)


class Review(ProjectPart, models.Model):
    """A supervisor's review of the proforma: kept, never overwritten."""

    class Decision(models.TextChoices):
        SIGNED_OFF = "signed_off", "Signed off"
        RETURNED = "returned", "Returned with feedback"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(max_length=12, choices=Decision.choices)
    comment = models.TextField(blank=True)
    step_feedback = models.JSONField(default=dict, help_text="Step number -> score, comment.")
    team_dose = models.FloatField(null=True, help_text="The team's own dose when reviewed.")
    reviewer_dose = models.FloatField(null=True, help_text="The mean of the reviewer's scores.")

    class Meta:
        ordering = ["-created_at", "-id"]


class Action(ProjectPart, models.Model):
    """An intervention (step 7): who, by when, and how success will be measured."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    OPEN = (Status.PLANNED, Status.IN_PROGRESS)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="project_actions",
    )  # fmt: skip
    due = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    success_measure = models.CharField(max_length=300, blank=True)
    how_measured = models.CharField(max_length=300, blank=True)
    # A data measure in the place, so progress is computed rather than typed.
    measure_category = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due", "id"]
        indexes = [models.Index(fields=["owner", "status", "due"], name="action_owner_due")]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: dt.date | None = None) -> bool:
        return (
            self.status in self.OPEN
            and self.due is not None
            and self.due < (today or dt.date.today())
        )


class Escalation(ProjectPart, models.Model):
    """A risk or blocker (step 8) and who must be approached about it."""

    class Level(models.TextChoices):
        SERGEANT = "sergeant", "Sergeant"
        INSPECTOR = "inspector", "Inspector"
        PARTNERSHIP = "partnership", "Partnership"
        SENIOR = "senior", "Senior leader"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="escalations")
    risk = models.CharField(max_length=300, help_text="What would make an intervention fail.")
    approach = models.CharField(max_length=300, blank=True, help_text="Who must be approached.")
    level = models.CharField(max_length=12, choices=Level.choices, default=Level.SERGEANT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="project_escalations",
    )  # fmt: skip
    due = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    outcome = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "due", "id"]

    def __str__(self) -> str:
        return self.risk


class Asset(ProjectPart, models.Model):
    """A community asset (step 2). Categories follow the asset-based community development
    groups, close to Open Referral UK's service taxonomy at the top level."""

    class Category(models.TextChoices):
        PEOPLE = "people", "People (skills, knowledge, time)"
        ASSOCIATIONS = "associations", "Associations and groups"
        INSTITUTIONS = "institutions", "Institutions (schools, health, housing, faith)"
        PHYSICAL = "physical", "Physical spaces"
        ECONOMIC = "economic", "Economic (businesses, employers)"
        CULTURAL = "cultural", "Cultural (history, events, identity)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assets")
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=Category.choices)
    description = models.TextField(blank=True)
    longitude = models.FloatField(null=True, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    highly_capable = models.BooleanField(default=False)
    highly_connected = models.BooleanField(default=False)
    # Personal data: kept only with consent, shared outside the project only with consent.
    contact = models.CharField(max_length=300, blank=True)
    consent_to_share = models.BooleanField(default=False)
    consent_recorded = models.CharField(max_length=200, blank=True, help_text="How and when.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name


class Stakeholder(ProjectPart, models.Model):
    """A person or organisation who shares the problem (step 3)."""

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        ORGANISATION = "organisation", "Organisation"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="stakeholders")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=14, choices=Kind.choices, default=Kind.PERSON)
    organisation = models.CharField(max_length=200, blank=True)
    interests = models.TextField(blank=True, help_text="Their stake and self-interest.")
    influence = models.PositiveSmallIntegerField(default=3, help_text="1 (little) to 5 (a lot)")
    key_individual_network = models.BooleanField(default=False)
    advisory_group = models.BooleanField(default=False)
    contact = models.CharField(max_length=300, blank=True, help_text="Seen by members only.")
    consent_recorded = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Relationship(ProjectPart, models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="relationships")
    source = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=100, blank=True, help_text="e.g. neighbours, works with")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="relationship_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source} and {self.target}" + (f" ({self.kind})" if self.kind else "")


class Observation(ProjectPart, models.Model):
    """A rich-picture entry: an issue (step 4), an idea of what "solved" looks like (step 6),
    or a place that works well, as one stakeholder group sees it."""

    class Kind(models.TextChoices):
        ISSUE = "issue", "Issue (problem rich picture)"
        IDEA = "idea", "Idea (solution rich picture)"
        WORKS_WELL = "works_well", "Works well here"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="observations")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    text = models.TextField()
    group = models.CharField(max_length=60, help_text="Whose view: residents, businesses, ...")
    stakeholder = models.ForeignKey(
        Stakeholder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    theme = models.CharField(max_length=60, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.group}: {self.text[:60]}"


class Meeting(ProjectPart, models.Model):
    """A working-group meeting (step 5): who came, what was said and decided."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="meetings")
    held_on = models.DateField()
    title = models.CharField(max_length=200)
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    other_attendees = models.TextField(blank=True, help_text="Residents and others, by name.")
    notes = models.TextField(blank=True)
    decisions = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.held_on:%d %b %Y}: {self.title}"


def _attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/project-{instance.step.project_id}/step-{instance.step.number}/{filename}"


class Attachment(models.Model):
    """A file kept with a step (a photo of a rich picture, minutes, a partner's data)."""

    ALLOWED = (".pdf", ".png", ".jpg", ".jpeg", ".docx", ".xlsx", ".csv", ".txt", ".odt")
    MAX_MB = 20

    step = models.ForeignKey(ProjectStep, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path)
    name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    @property
    def project(self) -> Project:
        return self.step.project

    @property
    def audit_parent(self) -> str:
        return f"projects.project:{self.step.project_id}"

    def __str__(self) -> str:
        return self.name
