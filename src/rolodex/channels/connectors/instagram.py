"""Instagram Messaging through a professional account linked to a page (Graph API)."""

from __future__ import annotations

import httpx

from rolodex.catalogue import Medium
from rolodex.channels.connectors import meta
from rolodex.channels.connectors.base import Connection, OutboundFile, PlatformError, Profile


class Instagram(meta.MessagingConnector):
    """An Instagram account's direct messages: IGSIDs are the contacts' ids."""

    provider = "instagram"
    medium = Medium.INSTAGRAM
    object_name = "instagram"
    account_field = "account_id"

    async def _send_file(
        self, http: httpx.AsyncClient, connection: Connection, recipient: str, file: OutboundFile
    ) -> str:
        # Instagram takes no uploads: it fetches the file from a public URL.
        if not file.url:
            raise PlatformError(
                "no_public_url", f"{file.filename} has no public URL to send", retryable=False
            )
        attachment = {
            "type": meta.attachment_type(file.content_type),
            "payload": {"url": file.url},
        }
        return await self._post_message(http, connection, recipient, {"attachment": attachment})

    async def test(self, http: httpx.AsyncClient, connection: Connection) -> str:
        """The account's @username (or its name)."""
        account_id = meta.required(connection, "account_id")
        account = await self._get(http, connection, account_id, "username,name")
        username, name = account.get("username"), account.get("name")
        if isinstance(username, str) and username:
            return f"@{username}"
        return name if isinstance(name, str) and name else account_id

    async def fetch_profile(
        self, http: httpx.AsyncClient, connection: Connection, contact_id: str
    ) -> Profile:
        """Username, name and follower count of an IGSID."""
        user = await self._get(
            http, connection, contact_id, "name,username,profile_pic,follower_count"
        )
        attributes: dict[str, object] = {}
        for field in ("username", "name"):
            value = user.get(field)
            if isinstance(value, str) and value.strip():
                attributes[field] = value.strip()
        followers = user.get("follower_count")
        if isinstance(followers, int) and not isinstance(followers, bool):
            attributes["followers"] = followers
        elif isinstance(followers, str) and followers.isdigit():
            attributes["followers"] = int(followers)
        return Profile(attributes)


connector = Instagram()
