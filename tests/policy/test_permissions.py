"""Role permissions come from the ``roles`` settings: who may change which group, who sees which view."""

from __future__ import annotations

import pytest

from plugin.policy.permissions import PermissionDenied, can_edit, can_view, edit_refusal, require_edit
from plugin.policy.schema import Settings
from plugin.policy.validation import set_value

DEFAULTS = Settings()


@pytest.mark.parametrize(
    "role, key, allowed",
    [
        ("admin", "access.api_ip_allowlist", True),
        ("admin", "roles.edit", True),
        ("supervisor", "session.idle_timeout_seconds", True),
        ("supervisor", "roles.edit", False),
        ("supervisor", "access.management_ip_allowlist", False),
        ("agent", "blacklist.phone_numbers", True),
        ("agent", "access.api_ip_allowlist", False),
        ("agent", "session.idle_timeout_seconds", False),
        ("admin", "storage.state_url", False),  # not editable in the chat by anyone
        ("customer", "blacklist.phone_numbers", False),  # unknown roles get nothing
    ],
)
def test_default_edit_table(role: str, key: str, allowed: bool) -> None:
    assert can_edit(DEFAULTS, role, key) is allowed


def test_the_table_is_the_roles_edit_setting() -> None:
    settings = set_value(DEFAULTS, "roles.edit.agent", ["blacklist", "session"])
    assert can_edit(settings, "agent", "session.idle_timeout_seconds")
    assert not can_edit(settings, "agent", "access.api_ip_allowlist")


def test_a_refusal_says_what_the_role_may_change() -> None:
    with pytest.raises(PermissionDenied) as refused:
        require_edit(DEFAULTS, "supervisor", "roles.edit")
    assert str(refused.value) == "roles.edit is in the roles group; a supervisor may change: session, blacklist, redaction"
    assert "cannot be changed in the chat" in edit_refusal(DEFAULTS, "admin", "storage.state_url")
    assert "not a staff role" in edit_refusal(DEFAULTS, "customer", "session.idle_timeout_seconds")


def test_views_per_role() -> None:
    assert can_view(DEFAULTS, "admin", "admin") and can_view(DEFAULTS, "admin", "agent")
    assert can_view(DEFAULTS, "agent", "agent")
    assert not can_view(DEFAULTS, "agent", "admin")
    assert not can_view(DEFAULTS, "supervisor", "admin")
    assert not can_view(DEFAULTS, "customer", "agent")
