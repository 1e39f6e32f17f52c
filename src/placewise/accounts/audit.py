"""Recording changes in the audit trail. Every action function calls ``record``."""

from __future__ import annotations

from typing import Any

from django.forms.models import model_to_dict

from .models import AuditEntry, User


def snapshot(obj: Any, exclude: tuple[str, ...] = ("geometry", "password")) -> dict[str, Any]:
    """A JSON-safe picture of a model instance for the audit's before/after."""
    data = model_to_dict(obj)
    return {k: _jsonable(v) for k, v in data.items() if k not in exclude}


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "pk"):
        return value.pk
    return str(value)


def record(
    actor: User | None,
    action: str,
    obj: Any = None,
    *,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    parent: str = "",
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        # Parts of a larger record (a project's actions, say) name it via ``audit_parent``.
        parent = parent or getattr(obj, "audit_parent", "")
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor.get_username() if actor is not None and actor.pk else "system",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        parent=parent[:80],
        before=_jsonable(before),
        after=_jsonable(after),
    )
