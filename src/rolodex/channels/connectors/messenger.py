"""Facebook Messenger through a page (Messenger Platform on the Graph API)."""

from __future__ import annotations

import httpx

from rolodex.catalogue import Medium
from rolodex.channels.connectors import meta
from rolodex.channels.connectors.base import Connection, OutboundFile, Profile

# Replies answer the contact's message, inside Messenger's 24-hour window.
RESPONSE = "RESPONSE"


class Messenger(meta.MessagingConnector):
    """A Facebook page's conversations: PSIDs are the contacts' ids."""

    provider = "messenger"
    medium = Medium.FACEBOOK
    object_name = "page"
    account_field = "page_id"
    messaging_type = RESPONSE

    async def _send_file(
        self, http: httpx.AsyncClient, connection: Connection, recipient: str, file: OutboundFile
    ) -> str:
        attachment = {
            "attachment": {
                "type": meta.attachment_type(file.content_type),
                "payload": {"is_reusable": False},
            }
        }
        answer = await meta.graph_post(
            http,
            self._messages_url(connection),
            self._token(connection),
            data={
                "recipient": meta.compact({"id": recipient}),
                "messaging_type": RESPONSE,
                "message": meta.compact(attachment),
            },
            files={"filedata": (file.filename, file.data, file.content_type)},
        )
        return meta.message_id(answer)

    async def test(self, http: httpx.AsyncClient, connection: Connection) -> str:
        """The page's name."""
        page_id = meta.required(connection, "page_id")
        page = await self._get(http, connection, page_id, "name")
        name = page.get("name")
        return name if isinstance(name, str) and name else page_id

    async def fetch_profile(
        self, http: httpx.AsyncClient, connection: Connection, contact_id: str
    ) -> Profile:
        """Name, picture and locale of a PSID."""
        user = await self._get(
            http, connection, contact_id, "first_name,last_name,profile_pic,locale"
        )
        attributes: dict[str, object] = {}
        parts = [user.get("first_name"), user.get("last_name")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
        if name:
            attributes["profile-name"] = name
        for field, short in (("profile_pic", "profile-image"), ("locale", "locale")):
            value = user.get(field)
            if isinstance(value, str) and value.strip():
                attributes[short] = value.strip()
        return Profile(attributes)


connector = Messenger()
