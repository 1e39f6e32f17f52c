"""Name the project on audit entries recorded before entries carried their parent, so the
project's history page lists earlier changes to its actions, assets and other records."""

from django.db import migrations

PARTS = (
    "projectmember",
    "projectstep",
    "review",
    "action",
    "escalation",
    "asset",
    "stakeholder",
    "relationship",
    "observation",
    "meeting",
)


def backfill(apps, schema_editor):
    AuditEntry = apps.get_model("accounts", "AuditEntry")
    ProjectStep = apps.get_model("projects", "ProjectStep")
    Attachment = apps.get_model("projects", "Attachment")
    step_project = dict(ProjectStep.objects.values_list("pk", "project_id"))
    file_project = dict(Attachment.objects.values_list("pk", "step__project_id"))
    labels = [f"projects.{name}" for name in PARTS] + ["projects.attachment"]
    for entry in AuditEntry.objects.filter(object_type__in=labels, parent=""):
        state = entry.after if isinstance(entry.after, dict) else entry.before
        project = state.get("project") if isinstance(state, dict) else None
        if entry.object_type == "projects.projectstep":
            project = step_project.get(int(entry.object_id or 0), project)
        elif entry.object_type == "projects.attachment":
            project = file_project.get(int(entry.object_id or 0))
        if project:
            # The audit model refuses save(); a queryset update is the one way to fill it.
            AuditEntry.objects.filter(pk=entry.pk).update(parent=f"projects.project:{project}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_auditentry_parent"),
        ("projects", "0005_attachments"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
