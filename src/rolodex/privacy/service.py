"""Deleting contacts (R8.1), the deleted-contacts log (R8.2) and automatic clearing.

A deletion is one transaction: the contact, its identity (the contact row is the
identity: the same sender writing again becomes a new contact with a new id), its values
and their history, its conversations with their messages, events and attachment rows,
its group memberships, the jobs about it, and audit entries about it. The attachment
files go after commit, in a job (they are content-addressed and may be shared). What is
left is one record per deleted contact: the admin's hint, the platform, when, and who.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.audit import service as audit
from rolodex.auth.principals import Principal
from rolodex.contacts import service as contacts
from rolodex.contacts.events import ContactDeleted
from rolodex.errors import InvalidInput
from rolodex.i18n import _
from rolodex.jobs import service as jobs
from rolodex.kit.clock import utcnow
from rolodex.kit.events import emit
from rolodex.kit.ids import new_id
from rolodex.kit.pagination import id_page
from rolodex.linking import service as links
from rolodex.models import DeletedContact
from rolodex.plans import Feature
from rolodex.privacy import repository
from rolodex.privacy.schemas import (
    DeletedBy,
    DeletedContactRead,
    PrivacySettingsRead,
    PrivacySettingsUpdate,
)

FILES_JOB = "privacy.remove_files"
MAX_HINT = 100
# A person-level erasure deletes at most this many linked contacts at once.
MAX_LINKED = 1000


def _read(record: DeletedContact) -> DeletedContactRead:
    return DeletedContactRead(
        id=record.id,
        hint=record.hint,
        medium=record.medium,
        deleted_at=record.deleted_at,
        deleted_by=DeletedBy(
            id=record.deleted_by_id, name=record.deleted_by_name, email=record.deleted_by_email
        ),
    )


async def delete_contact(
    session: AsyncSession,
    principal: Principal,
    contact_id: str,
    *,
    hint: str,
    include_linked: bool = False,
) -> list[DeletedContactRead]:
    """Erase a contact (and, with include_linked, every contact linked to it); admins only."""
    principal.require_admin()
    hint = hint.strip()
    if not hint or len(hint) > MAX_HINT:
        raise InvalidInput.for_field(
            "query.hint",
            _("Give a short reminder of who this was (1 to %(max)s characters).", max=MAX_HINT),
        )
    contact = await contacts.access_contact_by_id(session, principal, contact_id)
    ws = principal.workspace_id
    mediums = {contact.id: contact.medium}
    if include_linked:
        peers = [c for c, _, _ in await links.linked(session, ws, contact.id, limit=MAX_LINKED)]
        details = await links.link_details(session, ws, peers)
        mediums.update({peer: medium for peer, (medium, _, _) in details.items()})
    ids = list(mediums)
    hashes = await repository.attachment_hashes(session, ws, ids)
    await repository.erase(session, ws, ids)
    now, records = utcnow(), []
    for target in ids:
        record = DeletedContact(
            id=new_id("dct"),
            workspace_id=ws,
            hint=hint,
            medium=mediums[target],
            deleted_at=now,
            deleted_by_id=principal.user_id,
            deleted_by_name=principal.name,
            deleted_by_email=principal.email,
        )
        await repository.add_record(session, record)
        records.append(_read(record))
        await audit.record(
            session,
            principal,
            "contact.deleted",
            target_type="deleted_contact",
            target_id=record.id,
            after={"medium": record.medium, "include_linked": include_linked},
        )
        await emit(
            session,
            ContactDeleted(workspace_id=ws, contact_id=target, hint=hint, medium=record.medium),
        )
    if hashes:
        # Files are content-addressed (one copy per content): removed after commit, and only
        # when no other attachment points to them.
        await jobs.enqueue(session, FILES_JOB, {"sha256": sorted(hashes)}, workspace_id=ws)
    return records


def search_words(q: str | None) -> list[str]:
    """The words of a search, each to be found in a hint: split on spaces and punctuation
    that separates names (a comma, a semicolon), duplicates dropped."""
    words = (q or "").replace(",", " ").replace(";", " ").lower().split()
    return list(dict.fromkeys(words))


async def list_deleted(
    session: AsyncSession, principal: Principal, *, q: str | None, cursor: str | None, limit: int
) -> tuple[list[DeletedContactRead], str | None]:
    """The deleted-contacts log, newest first (admins); `q` keeps the records whose hint holds
    every word of it, in any order ("ana lópez" finds "López, Ana")."""
    principal.require_admin()
    stmt = repository.deleted_contacts(principal.workspace_id, search_words(q))
    rows, next_cursor = await id_page(
        session, stmt, DeletedContact.id, cursor=cursor, limit=limit, newest_first=True
    )
    return [_read(r) for r in rows], next_cursor


async def get_settings(session: AsyncSession, principal: Principal) -> PrivacySettingsRead:
    """The auto-clear setting (any user may read it)."""
    row = await repository.get_settings(session, principal.workspace_id)
    return PrivacySettingsRead(auto_clear_days=row.auto_clear_days if row else None)


async def update_settings(
    session: AsyncSession, principal: Principal, data: PrivacySettingsUpdate
) -> PrivacySettingsRead:
    """An admin turns automatic clearing on (business and enterprise) or off."""
    principal.require_admin()
    if data.auto_clear_days is not None:
        principal.require_feature(Feature.AUTO_CLEAR)
    before = await get_settings(session, principal)
    await repository.set_auto_clear(session, principal.workspace_id, data.auto_clear_days, utcnow())
    after = PrivacySettingsRead(auto_clear_days=data.auto_clear_days)
    if after != before:
        await audit.record(
            session,
            principal,
            "privacy_settings.updated",
            target_type="privacy_settings",
            target_id=principal.workspace_id,
            before=before.model_dump(),
            after=after.model_dump(),
        )
    return after
