"""Who may see and change what. Views call these; they never trust input directly."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from .models import DATA_ROLES, STAFF_ROLES, Role, User


class AuthedRequest(HttpRequest):
    """A request behind ``role_required``: its user is signed in."""

    user: User  # type: ignore[assignment]


def role_required(*roles: str) -> Callable:
    """Login required, then one of ``roles``; otherwise 403 (a logged-in user) or login."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.has_role(*roles):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


staff_required = role_required(*STAFF_ROLES)
data_role_required = role_required(*DATA_ROLES)
admin_required = role_required(Role.ADMIN)
