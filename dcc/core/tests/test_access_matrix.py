"""The access matrix: every route × every persona × relationship to the object, for GET and
POST. A new route without an entry here fails the suite, so no screen ships unreviewed.

Personas: anonymous; ``no_charter`` (logged in, current charter not accepted);
``oncologist`` (physician at the hospital); ``hospital_admin`` (structure administrator of
the hospital); ``platform_admin``; ``security_officer``; ``deactivated`` (logged in, then
deactivated). Object routes are tried on an object in the hospital admin's scope (``own``)
and one outside it (``other``): outside the scope, "no right" and "does not exist" must be
the same 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from dcc.accounts import services
from dcc.accounts.choices import Role
from dcc.accounts.models import CharterAcceptance, Membership, User
from dcc.audit.models import AuditEvent
from dcc.notifications.choices import NotificationKind
from dcc.notifications.services import notify

PERSONAS = (
    "anonymous",
    "no_charter",
    "oncologist",
    "hospital_admin",
    "platform_admin",
    "security_officer",
    "deactivated",
)
ANON_LIKE = {"anonymous": 302, "no_charter": 302, "deactivated": 302}
ADMIN_ONLY = {**ANON_LIKE, "oncologist": 403, "security_officer": 403}
# POST-only routes: GET is refused as a method before any permission is looked at.
POST_ONLY_GET = {
    **ANON_LIKE,
    "oncologist": 405,
    "security_officer": 405,
    "hospital_admin": 405,
    "platform_admin": 405,
}
OFFICER_ONLY = {**ANON_LIKE, "oncologist": 403, "hospital_admin": 403}
# An empty form may be answered 400 (invalid) as well as re-displayed or redirected.
WRITE_OK = frozenset({200, 302, 400})

# route name -> (GET expectations, POST expectations or None when POST is not offered).
# Each expectation maps persona -> status, or persona -> {"own": status, "other": status}.
Expect = dict[str, Any]
MATRIX: dict[str, tuple[Expect, Expect | None]] = {
    "core:home": (
        {
            **ANON_LIKE,
            "oncologist": 200,
            "hospital_admin": 200,
            "platform_admin": 200,
            "security_officer": 200,
        },
        None,
    ),
    "accounts:login": (
        {
            "anonymous": 200,
            "deactivated": 200,
            "no_charter": 302,
            "oncologist": 302,
            "hospital_admin": 302,
            "platform_admin": 302,
            "security_officer": 302,
        },
        {
            "anonymous": 200,
            "deactivated": 200,
            "no_charter": 403,
            "oncologist": 302,
            "hospital_admin": 302,
            "platform_admin": 302,
            "security_officer": 302,
        },
    ),
    "accounts:otp_verify": (
        {
            "anonymous": 302,
            "deactivated": 302,
            "no_charter": 302,
            "oncologist": 302,
            "hospital_admin": 302,
            "platform_admin": 302,
            "security_officer": 302,
        },
        {
            "anonymous": 302,
            "deactivated": 302,
            "no_charter": 403,
            "oncologist": 302,
            "hospital_admin": 302,
            "platform_admin": 302,
            "security_officer": 302,
        },
    ),
    "accounts:otp_enrol": (
        {
            "anonymous": 302,
            "deactivated": 302,
            "no_charter": 302,
            "oncologist": 302,
            "hospital_admin": 302,
            "platform_admin": 302,
            "security_officer": 302,
        },
        {
            "anonymous": 302,
            "deactivated": 302,
            "no_charter": 403,
            "oncologist": 302,
            "hospital_admin": 302,
            "platform_admin": 302,
            "security_officer": 302,
        },
    ),
    "accounts:logout": ({p: 405 for p in PERSONAS}, {p: 302 for p in PERSONAS}),
    "accounts:charter": (
        {
            "anonymous": 302,
            "deactivated": 302,
            "no_charter": 200,
            "oncologist": 200,
            "hospital_admin": 200,
            "platform_admin": 200,
            "security_officer": 200,
        },
        {
            "anonymous": 302,
            "deactivated": 302,
            "no_charter": 200,
            "oncologist": 200,
            "hospital_admin": 200,
            "platform_admin": 200,
            "security_officer": 200,
        },
    ),
    "accounts:charter_publish": (
        {**ADMIN_ONLY, "hospital_admin": 403, "platform_admin": 200},
        {**ADMIN_ONLY, "no_charter": 403, "hospital_admin": 403, "platform_admin": 200},
    ),
    "accounts:invitation": (
        {
            "anonymous": 200,
            "deactivated": 200,
            "no_charter": 302,
            "oncologist": 200,
            "hospital_admin": 200,
            "platform_admin": 200,
            "security_officer": 200,
        },
        {
            "anonymous": 200,
            "deactivated": 200,
            "no_charter": 403,
            "oncologist": 200,
            "hospital_admin": 200,
            "platform_admin": 200,
            "security_officer": 200,
        },
    ),
    "accounts:context": (
        {
            **ANON_LIKE,
            "oncologist": 405,
            "hospital_admin": 405,
            "platform_admin": 405,
            "security_officer": 405,
        },
        {
            **ANON_LIKE,
            "no_charter": 403,
            "oncologist": 302,
            "hospital_admin": 302,
            "platform_admin": 302,
            "security_officer": 302,
        },
    ),
    # Pro Santé Connect is not configured in this matrix: both routes do not exist.
    "accounts:psc_start": ({**{p: 404 for p in PERSONAS}, "no_charter": 302}, None),
    "accounts:psc_callback": ({**{p: 404 for p in PERSONAS}, "no_charter": 302}, None),
    "administration:index": ({**ADMIN_ONLY, "hospital_admin": 200, "platform_admin": 200}, None),
    "administration:structure_list": (
        {**ADMIN_ONLY, "hospital_admin": 200, "platform_admin": 200},
        None,
    ),
    "administration:structure_create": (
        {**ADMIN_ONLY, "hospital_admin": 200, "platform_admin": 200},
        {**ADMIN_ONLY, "no_charter": 403, "hospital_admin": 200, "platform_admin": 200},
    ),
    "administration:structure_detail": (
        {**ADMIN_ONLY, "hospital_admin": {"own": 200, "other": 404}, "platform_admin": 200},
        None,
    ),
    "administration:structure_edit": (
        {**ADMIN_ONLY, "hospital_admin": {"own": 200, "other": 404}, "platform_admin": 200},
        {
            **ADMIN_ONLY,
            "no_charter": 403,
            "hospital_admin": {"own": 200, "other": 404},
            "platform_admin": 200,
        },
    ),
    "administration:user_list": (
        {**ADMIN_ONLY, "hospital_admin": 200, "platform_admin": 200},
        None,
    ),
    "administration:user_detail": (
        {**ADMIN_ONLY, "hospital_admin": {"own": 200, "other": 404}, "platform_admin": 200},
        None,
    ),
    "administration:user_edit": (
        {**ADMIN_ONLY, "hospital_admin": {"own": 200, "other": 404}, "platform_admin": 200},
        {
            **ADMIN_ONLY,
            "no_charter": 403,
            "hospital_admin": {"own": 200, "other": 404},
            "platform_admin": 200,
        },
    ),
    "administration:user_grant_role": (
        POST_ONLY_GET,
        {
            **ADMIN_ONLY,
            "no_charter": 403,
            "hospital_admin": {"own": WRITE_OK, "other": 404},
            "platform_admin": WRITE_OK,
        },
    ),
    "administration:user_revoke_role": (
        POST_ONLY_GET,
        {
            **ADMIN_ONLY,
            "no_charter": 403,
            "hospital_admin": {"own": 302, "other": 404},
            "platform_admin": 302,
        },
    ),
    "administration:user_deactivate": (
        {**ADMIN_ONLY, "hospital_admin": {"own": 200, "other": 404}, "platform_admin": 200},
        {
            **ADMIN_ONLY,
            "no_charter": 403,
            "hospital_admin": {"own": 302, "other": 404},
            "platform_admin": 302,
        },
    ),
    # The target is active: the reactivation page sends back to the professional's page.
    "administration:user_reactivate": (
        {**ADMIN_ONLY, "hospital_admin": {"own": 302, "other": 404}, "platform_admin": 302},
        {
            **ADMIN_ONLY,
            "no_charter": 403,
            "hospital_admin": {"own": 302, "other": 404},
            "platform_admin": 302,
        },
    ),
    "administration:invitation_list": (
        {**ADMIN_ONLY, "hospital_admin": 200, "platform_admin": 200},
        None,
    ),
    "administration:invitation_create": (
        {**ADMIN_ONLY, "hospital_admin": 200, "platform_admin": 200},
        {**ADMIN_ONLY, "no_charter": 403, "hospital_admin": 200, "platform_admin": 200},
    ),
    "administration:invitation_cancel": (
        POST_ONLY_GET,
        {
            **ADMIN_ONLY,
            "no_charter": 403,
            "hospital_admin": {"own": 302, "other": 404},
            "platform_admin": 302,
        },
    ),
    "audit:events": ({**OFFICER_ONLY, "platform_admin": 200, "security_officer": 200}, None),
    "audit:event_detail": ({**OFFICER_ONLY, "platform_admin": 200, "security_officer": 200}, None),
    "set_language": ({p: 302 for p in PERSONAS}, {p: 302 for p in PERSONAS}),
    # Everyone reads and marks read their own notifications only: "own" is the oncologist's
    # notification, "other" someone else's; nobody, administrators included, touches another's.
    "notifications:list": (
        {
            **ANON_LIKE,
            "oncologist": 200,
            "hospital_admin": 200,
            "platform_admin": 200,
            "security_officer": 200,
        },
        None,
    ),
    "notifications:mark_read": (
        POST_ONLY_GET,
        {
            **ANON_LIKE,
            "no_charter": 403,
            "oncologist": {"own": 302, "other": 404},
            "hospital_admin": 404,
            "platform_admin": 404,
            "security_officer": 404,
        },
    ),
    "notifications:mark_all_read": (
        POST_ONLY_GET,
        {
            **ANON_LIKE,
            "no_charter": 403,
            "oncologist": 302,
            "hospital_admin": 302,
            "platform_admin": 302,
            "security_officer": 302,
        },
    ),
    # Everyone sets their own e-mail preferences, nobody anyone else's (there is no user in
    # the address).
    "notifications:preferences": (
        {
            **ANON_LIKE,
            "oncologist": 200,
            "hospital_admin": 200,
            "platform_admin": 200,
            "security_officer": 200,
        },
        {
            **ANON_LIKE,
            "no_charter": 403,
            "oncologist": 302,
            "hospital_admin": 302,
            "platform_admin": 302,
            "security_officer": 302,
        },
    ),
}


def _route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = (
                    f"{namespace}:{pattern.namespace}"
                    if namespace and pattern.namespace
                    else (pattern.namespace or namespace)
                )
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                names.add(f"{namespace}:{pattern.name}" if namespace else str(pattern.name))

    walk(get_resolver().url_patterns, "")
    return names


# Patient routes have their own matrix, with the patient-relationship personas (care team,
# RCP participant, GP, emergency access, objection…): dcc/patients/tests/test_access_matrix.py.
# Routes under a patient have their own matrices (patients and documents tests).
PATIENT_NAMESPACE = ("patients:", "documents:")


def test_every_route_has_an_entry_in_the_access_matrix() -> None:
    routes = {name for name in _route_names() if not name.startswith(PATIENT_NAMESPACE)}
    assert routes - MATRIX.keys() == set(), "add these routes to the access matrix"
    assert MATRIX.keys() - routes == set(), "these matrix entries name no route"


class World:
    """Everything the matrix needs, built once per test."""

    def __init__(self, fixtures: dict[str, Any], charter: Any) -> None:
        self.structures = fixtures["structures"]
        self.users: dict[str, User] = {
            "oncologist": fixtures["oncologist"],
            "hospital_admin": fixtures["hospital_admin"],
            "platform_admin": fixtures["platform_admin"],
            "security_officer": fixtures["security_officer"],
            "no_charter": fixtures["rcp_secretary"],
            "deactivated": User.objects.create_user(
                "parti@chu.test", "x", first_name="P", last_name="Parti"
            ),
        }
        Membership.objects.create(
            user=self.users["deactivated"],
            structure=self.structures["hospital"],
            role=Role.PHYSICIAN,
        )
        for name, user in self.users.items():
            if name != "no_charter":
                CharterAcceptance.objects.create(user=user, charter=charter)
        self.outsider: User = fixtures["outsider"]
        admin = self.users["platform_admin"]
        self.victims = {
            "own": User.objects.create_user(
                "cible@chu.test", "x", first_name="C", last_name="Cible"
            ),
            "other": User.objects.create_user(
                "cible@ailleurs.test", "x", first_name="C", last_name="Ailleurs"
            ),
        }
        self.memberships = {
            "own": services.grant_role(
                actor=admin,
                user=self.victims["own"],
                structure=self.structures["hospital"],
                role=Role.PHYSICIAN,
            ),
            "other": services.grant_role(
                actor=admin,
                user=self.victims["other"],
                structure=self.structures["other"],
                role=Role.PHYSICIAN,
            ),
        }
        self.invitations = {
            relation: services.invite_user(
                actor=admin,
                email=f"invite-{relation}@test.dcc",
                first_name="I",
                last_name="Invité",
                structure=self.structures["hospital" if relation == "own" else "other"],
                role=Role.RCP_SECRETARY,
            )
            for relation in ("own", "other")
        }
        self.event = AuditEvent.objects.order_by("-id").first()
        self.notifications = {
            relation: notify(
                recipients=[recipient],
                kind=NotificationKind.EMERGENCY_ACCESS,
                title="Notification de test",
            )[0]
            for relation, recipient in (
                ("own", self.users["oncologist"]),
                ("other", self.victims["own"]),
            )
        }

    def args(self, route: str, relation: str) -> list[Any]:
        structure = self.structures["hospital" if relation == "own" else "other"]
        by_route: dict[str, Callable[[], list[Any]]] = {
            "accounts:invitation": lambda: [self.invitations[relation][1]],
            "administration:structure_detail": lambda: [structure.uuid],
            "administration:structure_edit": lambda: [structure.uuid],
            "administration:user_detail": lambda: [self.victims[relation].uuid],
            "administration:user_edit": lambda: [self.victims[relation].uuid],
            "administration:user_grant_role": lambda: [self.victims[relation].uuid],
            "administration:user_revoke_role": lambda: [
                self.victims[relation].uuid,
                self.memberships[relation].uuid,
            ],
            "administration:user_deactivate": lambda: [self.victims[relation].uuid],
            "administration:user_reactivate": lambda: [self.victims[relation].uuid],
            "administration:invitation_cancel": lambda: [self.invitations[relation][0].uuid],
            "audit:event_detail": lambda: [self.event.uuid if self.event else None],
            "notifications:mark_read": lambda: [self.notifications[relation].uuid],
        }
        return by_route.get(route, list)()

    def client(self, persona: str) -> Client:
        user = None if persona == "anonymous" else self.users[persona]
        return persona_client(user, deactivate=persona == "deactivated")


def persona_client(user: User | None, *, deactivate: bool = False) -> Client:
    """A client logged in as ``user`` (anonymous for None) through a Pro Santé Connect session
    (strongly authenticated without a TOTP device); ``deactivate`` then deactivates the account,
    as an administrator would while the session is open."""
    client = Client()
    if user is None:
        return client
    client.force_login(user, backend="dcc.accounts.backends.ThrottledPasswordBackend")
    session = client.session
    now = int(timezone.now().timestamp())
    session.update({"dcc_auth_at": now, "dcc_seen_at": now, "dcc_login_method": "psc"})
    session.save()
    if deactivate:
        User.objects.filter(pk=user.pk).update(is_active=False)
    return client


def _expected(entry: Expect, persona: str, relation: str) -> Any:
    value = entry[persona]
    return value[relation] if isinstance(value, dict) else value


def _cells(method: int) -> list[tuple[str, str, str]]:
    cells = []
    for route, entries in MATRIX.items():
        entry = entries[method]
        if entry is None:
            continue
        object_route = any(isinstance(v, dict) for v in entry.values()) or route in {
            "accounts:invitation",
            "audit:event_detail",
        }
        for persona in PERSONAS:
            for relation in ("own", "other") if object_route else ("own",):
                cells.append((route, persona, relation))
    return cells


@pytest.fixture
def world(
    structures: Any,
    oncologist: Any,
    hospital_admin: Any,
    platform_admin: Any,
    security_officer: Any,
    rcp_secretary: Any,
    outsider: Any,
    charter: Any,
) -> World:
    return World(
        {
            "structures": structures,
            "oncologist": oncologist,
            "hospital_admin": hospital_admin,
            "platform_admin": platform_admin,
            "security_officer": security_officer,
            "rcp_secretary": rcp_secretary,
            "outsider": outsider,
        },
        charter,
    )


def _check(status: int, expected: Any, label: str) -> None:
    allowed = expected if isinstance(expected, frozenset) else {expected}
    assert status in allowed, f"{label}: got {status}, expected {sorted(allowed)}"


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "persona", "relation"), _cells(0))
def test_get_answers_as_the_matrix_says(
    world: World, route: str, persona: str, relation: str
) -> None:
    url = reverse(route, args=world.args(route, relation))
    response = world.client(persona).get(url)
    _check(
        response.status_code,
        _expected(MATRIX[route][0], persona, relation),
        f"GET {url} as {persona}",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "persona", "relation"), _cells(1))
def test_post_answers_as_the_matrix_says(
    world: World, route: str, persona: str, relation: str
) -> None:
    url = reverse(route, args=world.args(route, relation))
    before = (
        AuditEvent.objects.filter(outcome="success").exclude(action__startswith="auth.").count()
    )
    response = world.client(persona).post(url, {})
    expected = MATRIX[route][1]
    assert expected is not None
    want = _expected(expected, persona, relation)
    _check(response.status_code, want, f"POST {url} as {persona}")
    if (
        want in (403, 404, 405)
        or persona in ANON_LIKE
        and want == 302
        and route.startswith("administration:")
    ):
        # A refused write changes nothing.
        after = (
            AuditEvent.objects.filter(outcome="success").exclude(action__startswith="auth.").count()
        )
        assert after == before, f"POST {url} as {persona} was refused but recorded a change"
