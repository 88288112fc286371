"""What each staff role may change and see, read from the ``roles`` settings (``roles.edit``, ``roles.views``).

A setting belongs to the group named by the first part of its dotted key; a role may change a key only if that group is
in its ``roles.edit`` list and the group is editable at all. Refusals carry a message that says what the role may do.
"""

from __future__ import annotations

from typing import Tuple

from plugin.policy.schema import EDITABLE_GROUPS, ROLES, Settings

ADMIN_VIEW = "admin"  # originals from the vault; implies every masked view


class PermissionDenied(Exception):
    """A staff role tried to change or see something its role does not allow; the message says what it may do."""


def group_of(dotted_key: str) -> str:
    return dotted_key.split(".", 1)[0]


def editable_groups(settings: Settings, role: str) -> Tuple[str, ...]:
    """The settings groups ``role`` may change (empty for an unknown role: fail closed)."""
    if role not in ROLES:
        return ()
    return tuple(g for g in settings.roles.edit.get(role, ()) if g in EDITABLE_GROUPS)


def can_edit(settings: Settings, role: str, dotted_key: str) -> bool:
    return bool(dotted_key) and group_of(dotted_key) in editable_groups(settings, role)


def view_of(settings: Settings, role: str) -> str:
    """The view of PII ``role`` sees; "" for an unknown role (fail closed: no view)."""
    return settings.roles.views.get(role, "") if role in ROLES else ""


def can_view(settings: Settings, role: str, view: str) -> bool:
    """A role sees its configured view; a role with the admin view (originals) may also see every masked view."""
    own = view_of(settings, role)
    return bool(own) and (view == own or own == ADMIN_VIEW)


def edit_refusal(settings: Settings, role: str, dotted_key: str) -> str:
    """Why ``role`` may not change ``dotted_key``, phrased for the staff member in the chat."""
    if role not in ROLES:
        return f"{role!r} is not a staff role; roles are {', '.join(ROLES)}"
    group = group_of(dotted_key)
    allowed = editable_groups(settings, role)
    may = f"a {role} may change: {', '.join(allowed)}" if allowed else f"a {role} may not change any settings"
    if group not in EDITABLE_GROUPS:
        return f"{dotted_key} cannot be changed in the chat; {may}"
    return f"{dotted_key} is in the {group} group; {may}"


def require_edit(settings: Settings, role: str, dotted_key: str) -> None:
    """Raise ``PermissionDenied`` unless ``role`` may change ``dotted_key``."""
    if not can_edit(settings, role, dotted_key):
        raise PermissionDenied(edit_refusal(settings, role, dotted_key))


def require_view(settings: Settings, role: str, view: str) -> None:
    if not can_view(settings, role, view):
        own = view_of(settings, role) or "none"
        raise PermissionDenied(f"a {role} may not see the {view} view (its view: {own})")
