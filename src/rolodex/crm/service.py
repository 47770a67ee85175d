"""The CRM integration (R5, R6, B2): settings, client credentials, look-ups, Confirm, the
CRM's answers, and the write-back deliveries. Enterprise only (R10).

How it flows
------------
* Triggers (crm/triggers.py) write a `crm.lookup` job in the transaction that changed a
  lookup value or opened a conversation; the job (crm/jobs.py) posts the contact's lookup
  values, signed, and applies the answer (crm/answers.py) in a transaction of its own.
* A status change to resolved or pending writes a `crm.write_back` job holding the whole
  event (crm/writeback.py); retries send the same bytes with the same idempotencyKey.
  Deliveries are those jobs: listed, retried now, kept when they fail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes.service import Provenance
from rolodex.audit import service as audit
from rolodex.auth import service as auth
from rolodex.auth.principals import Principal, TokenKind
from rolodex.contacts import service as contacts
from rolodex.crm import answers, repository, triggers, writeback
from rolodex.crm.schemas import (
    AnswerResult,
    AuthRead,
    AuthType,
    ClientCredentialsCreate,
    ClientCredentialsCreated,
    ClientCredentialsRead,
    CrmAnswer,
    CrmIntegrationRead,
    CrmIntegrationUpdate,
    CrmStateRead,
    LookupOutcome,
    OAuth2Auth,
    SharedSecretRead,
)
from rolodex.errors import Conflict, Forbidden, InvalidInput, field_error
from rolodex.i18n import _
from rolodex.jobs import service as jobs
from rolodex.kit import outbound
from rolodex.kit.clock import utcnow
from rolodex.kit.signing import new_shared_secret
from rolodex.models import CrmIntegration, OAuthClient
from rolodex.plans import Feature, has_feature
from rolodex.workspaces import service as workspaces

URL_FIELDS = ("lookup_url", "write_back_url", "notification_url")


def _require(principal: Principal, *, admin: bool = True) -> None:
    principal.require_feature(Feature.CRM_INTEGRATION)
    if admin:
        principal.require_admin()


def _read(row: CrmIntegration | None, editing: bool) -> CrmIntegrationRead:
    if row is None:
        return CrmIntegrationRead(configured=False, agents_can_edit_crm_managed=editing)
    return CrmIntegrationRead(
        configured=True,
        lookup_url=row.lookup_url,
        write_back_url=row.write_back_url,
        notification_url=row.notification_url,
        auth=AuthRead(
            type=AuthType(row.auth_type),
            token_url=row.oauth_token_url,
            client_id=row.oauth_client_id,
            client_secret_set=bool(row.oauth_client_secret),
            scope=row.oauth_scope,
        ),
        shared_secret=row.shared_secret,
        timeout_seconds=row.timeout_seconds,
        agents_can_edit_crm_managed=editing,
        updated_at=row.updated_at,
    )


def _snapshot(read: CrmIntegrationRead) -> dict[str, Any]:
    return read.model_dump(mode="json", exclude={"shared_secret", "updated_at"})


async def get_integration(session: AsyncSession, principal: Principal) -> CrmIntegrationRead:
    """The workspace's CRM integration (admins, enterprise)."""
    _require(principal)
    workspace = await workspaces.get_workspace(session, principal)
    row = await repository.get_integration(session, principal.workspace_id)
    return _read(row, workspace.agents_can_edit_crm_managed)


def _checked_urls(data: CrmIntegrationUpdate, allow_private: bool) -> None:
    urls = {name: getattr(data, name) for name in URL_FIELDS}
    if isinstance(data.auth, OAuth2Auth):
        urls["auth.token_url"] = data.auth.token_url
    errors = []
    for name, url in urls.items():
        if url is None:
            continue
        try:
            outbound.check_url(url, allow_private=allow_private)
        except outbound.UnsafeTarget as exc:
            errors.append(field_error(name, jobs.unsafe_target_message(exc), "unsafe_url"))
    if errors:
        detail = " ".join(e["message"] for e in errors)
        raise InvalidInput(detail, errors=errors, code="invalid_url")


async def put_integration(
    session: AsyncSession, principal: Principal, data: CrmIntegrationUpdate, *, allow_private: bool
) -> CrmIntegrationRead:
    """Connect the CRM or change its settings (admins, enterprise); audited."""
    _require(principal)
    _checked_urls(data, allow_private)
    ws = principal.workspace_id
    await workspaces.config_changed(session, ws)  # the triggers read whether it is connected
    row = await repository.get_integration(session, ws)
    workspace = await workspaces.get_workspace(session, principal)
    before = _snapshot(_read(row, workspace.agents_can_edit_crm_managed)) if row else None
    now = utcnow()
    if row is None:
        row = CrmIntegration(
            workspace_id=ws, shared_secret=new_shared_secret(), created_at=now, lookup_url=""
        )
        session.add(row)
    row.lookup_url, row.write_back_url = data.lookup_url, data.write_back_url
    row.notification_url, row.timeout_seconds = data.notification_url, data.timeout_seconds
    if isinstance(data.auth, OAuth2Auth):
        secret = data.auth.client_secret or (
            row.oauth_client_secret if row.auth_type == AuthType.OAUTH2 else None
        )
        if not secret:
            raise InvalidInput.for_field(
                "auth.client_secret",
                _("Enter the client secret to switch to OAuth2."),
                code="validation_error",
            )
        row.auth_type = AuthType.OAUTH2.value
        row.oauth_token_url, row.oauth_client_id = data.auth.token_url, data.auth.client_id
        row.oauth_client_secret, row.oauth_scope = secret, data.auth.scope
    else:
        row.auth_type = AuthType.SHARED_SECRET.value
        row.oauth_token_url = row.oauth_client_id = row.oauth_client_secret = None
        row.oauth_scope = None
    row.updated_at = now
    await session.flush()
    if data.agents_can_edit_crm_managed is not None:
        workspace = await workspaces.set_agents_can_edit_crm_managed(
            session, principal, data.agents_can_edit_crm_managed
        )
    read = _read(row, workspace.agents_can_edit_crm_managed)
    await audit.record(
        session,
        principal,
        "crm.connected" if before is None else "crm.updated",
        target_type="crm_integration",
        target_id=ws,
        before=before,
        after=_snapshot(read),
    )
    return read


async def rotate_secret(session: AsyncSession, principal: Principal) -> SharedSecretRead:
    """A new shared secret; requests are signed with it from now on (admins)."""
    _require(principal)
    row = await _integration(session, principal.workspace_id)
    row.shared_secret, row.updated_at = new_shared_secret(), utcnow()
    await session.flush()
    await audit.record(
        session,
        principal,
        "crm.secret_rotated",
        target_type="crm_integration",
        target_id=row.workspace_id,
    )
    return SharedSecretRead(shared_secret=row.shared_secret)


async def delete_integration(session: AsyncSession, principal: Principal) -> None:
    """Disconnect the CRM: no more look-ups or write-backs; pending answers are dropped."""
    _require(principal)
    row = await _integration(session, principal.workspace_id)
    await workspaces.config_changed(session, principal.workspace_id)
    await session.delete(row)
    await repository.clear_pending_for(session, principal.workspace_id)
    await audit.record(
        session,
        principal,
        "crm.disconnected",
        target_type="crm_integration",
        target_id=row.workspace_id,
    )
    await session.flush()


async def _integration(session: AsyncSession, workspace_id: str) -> CrmIntegration:
    row = await repository.get_integration(session, workspace_id)
    if row is None:
        raise Conflict(_("No CRM is connected to this workspace."), code="crm_not_connected")
    return row


def _client_read(row: OAuthClient) -> ClientCredentialsRead:
    return ClientCredentialsRead(
        client_id=row.id, name=row.name, created_at=row.created_at, revoked_at=row.revoked_at
    )


async def create_credentials(
    session: AsyncSession, principal: Principal, data: ClientCredentialsCreate
) -> ClientCredentialsCreated:
    """Client credentials the CRM uses to call Rolodex (POST /oauth2/token); shown once."""
    _require(principal)
    row, secret = await auth.create_oauth_client(
        session, principal, kind=TokenKind.CRM, name=data.name or "CRM"
    )
    return ClientCredentialsCreated(**_client_read(row).model_dump(), client_secret=secret)


async def list_credentials(
    session: AsyncSession, principal: Principal
) -> list[ClientCredentialsRead]:
    """The CRM integration's client credentials (admins)."""
    _require(principal)
    rows = await auth.list_oauth_clients(session, principal, TokenKind.CRM)
    return [_client_read(r) for r in rows]


async def revoke_credentials(session: AsyncSession, principal: Principal, client_id: str) -> None:
    """Revoke client credentials and the tokens issued to them (admins)."""
    _require(principal)
    await auth.revoke_oauth_client(session, principal, client_id, TokenKind.CRM)


def _state_read(row: Any, enabled: bool) -> CrmStateRead:
    if row is None:
        return CrmStateRead(enabled=enabled)
    return CrmStateRead(
        enabled=enabled,
        validated=row.validated,
        last_lookup_at=row.last_lookup_at,
        last_outcome=LookupOutcome(row.last_outcome) if row.last_outcome else None,
        last_error=row.last_error,
        pending=row.pending,
    )


async def contact_state(
    session: AsyncSession, principal: Principal, contact_id: str
) -> CrmStateRead | None:
    """A contact's CRM status for the Contact tab; None outside enterprise."""
    if not has_feature(principal.plan, Feature.CRM_INTEGRATION):
        return None
    row = await repository.tab_state(session, principal.workspace_id, contact_id)
    return _state_read(row if row.validated is not None else None, row.connected is not None)


async def contact_crm(session: AsyncSession, principal: Principal, contact_id: str) -> CrmStateRead:
    """A contact's CRM status (enterprise)."""
    _require(principal, admin=False)
    contact = await contacts.access_contact_by_id(session, principal, contact_id)
    state = await contact_state(session, principal, contact.id)
    assert state is not None
    return state


async def request_lookup(
    session: AsyncSession, principal: Principal, contact_id: str
) -> CrmStateRead:
    """The Lookup button: ask the CRM for the contact now, in the background (202)."""
    _require(principal, admin=False)
    contact = await contacts.access_contact_by_id(session, principal, contact_id)
    ws = principal.workspace_id
    await _integration(session, ws)
    if not await repository.lookup_values(session, ws, contact.id):
        raise Conflict(
            _("The contact has no value of a lookup attribute to look up."),
            code="no_lookup_values",
        )
    await triggers.enqueue_lookup(session, ws, contact.id, "requested")
    await repository.put_state(
        session,
        {
            "contact_id": contact.id,
            "workspace_id": ws,
            "last_outcome": LookupOutcome.QUEUED.value,
            "updated_at": utcnow(),
        },
    )
    return _state_read(await repository.get_state(session, ws, contact.id), True)


async def confirm(session: AsyncSession, principal: Principal, contact_id: str) -> AnswerResult:
    """An agent confirms the CRM's pending values: they are written with source `crm`."""
    _require(principal, admin=False)
    principal.require_user()
    contact = await contacts.access_contact_by_id(session, principal, contact_id)
    state = await repository.get_state(session, principal.workspace_id, contact.id)
    if state is None or not state.pending:
        raise Conflict(_("No CRM values wait for confirmation."), code="nothing_pending")
    provenance = Provenance("crm", principal.actor_kind, principal.actor_id, None, utcnow())
    applied = await answers.confirm_pending(
        session, principal.workspace_id, contact.id, dict(state.pending), provenance
    )
    await notify(session, principal.workspace_id, contact.id, applied.problems)
    return applied.result


async def receive_answer(
    session: AsyncSession, principal: Principal, contact_id: str, answer: CrmAnswer
) -> AnswerResult:
    """The CRM's answer sent later (PUT …/contact-attributes): applied like a look-up's."""
    if principal.kind is not TokenKind.CRM:
        raise Forbidden(
            _("Only the CRM integration's token can do this."), code="crm_token_required"
        )
    principal.require_feature(Feature.CRM_INTEGRATION)
    contact = await contacts.access_contact_by_id(session, principal, contact_id)
    provenance = Provenance("crm", principal.actor_kind, principal.actor_id, None, utcnow())
    return await apply(session, principal.workspace_id, contact.id, answer, provenance)


async def apply(
    session: AsyncSession,
    workspace_id: str,
    contact_id: str,
    answer: CrmAnswer,
    provenance: Provenance,
) -> AnswerResult:
    """Apply a CRM answer and queue the notification of what it could not apply."""
    applied = await answers.apply_answer(session, workspace_id, contact_id, answer, provenance)
    await notify(session, workspace_id, contact_id, applied.problems)
    return applied.result


async def notify(
    session: AsyncSession, workspace_id: str, contact_id: str, messages: list[str]
) -> None:
    """Queue a DATA_IMPORT_ERROR notification to the CRM (when it has a notification URL)."""
    row = await repository.get_integration(session, workspace_id)
    if messages and row is not None and row.notification_url:
        # The messages name the contact: the job goes when the contact is erased.
        await jobs.enqueue(
            session,
            repository.NOTIFY_JOB,
            {"messages": messages},
            workspace_id=workspace_id,
            contact_id=contact_id,
        )


async def record_outcome(
    session: AsyncSession,
    workspace_id: str,
    contact_id: str,
    outcome: LookupOutcome,
    error: str | None = None,
) -> None:
    """Note how a look-up ended, for the Contact tab."""
    if not await repository.contact_exists(session, workspace_id, contact_id):
        return  # deleted meanwhile
    now = utcnow()
    await repository.put_state(
        session,
        {
            "contact_id": contact_id,
            "workspace_id": workspace_id,
            "last_lookup_at": now,
            "last_outcome": outcome.value,
            "last_error": error,
            "updated_at": now,
        },
    )


# The Inbox 2.0 picture of a conversation and its contact, for the virtual-agent events.
conversation_snapshot = writeback.conversation_snapshot
