"""The public visitor API's bodies (SPEC "Web chat widget")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from rolodex.conversations.schemas import FileUpload
from rolodex.schemas import InputModel, OutputModel

MAX_TEXT_LENGTH = 5000
# What a visitor may attach: pictures and PDFs (never anything a browser would run).
ATTACHMENT_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")

Short = Annotated[str, Field(max_length=200)]
PageText = Annotated[str, Field(max_length=2000)]


class SessionUpdate(InputModel):
    """What the widget refreshes on each page of a resumed session (or the pre-chat form)."""

    first_name: Short | None = None
    last_name: Short | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    page_url: PageText | None = None
    page_title: PageText | None = None
    browser_language: Annotated[str, Field(max_length=35)] | None = None


class SessionCreate(SessionUpdate):
    """A visitor starts a session; a signed-in customer's site passes a signed identifier."""

    identifier: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    identifier_hash: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class SessionRead(OutputModel):
    """The visitor's session: their contact and open conversation."""

    contact_id: str
    conversation_id: str | None
    verified: bool


class SessionCreated(SessionRead):
    """A new session and the token the widget keeps (shown once)."""

    session_token: str


class VisitorMessageCreate(InputModel):
    """A visitor's message: text, files, or both."""

    text: Annotated[str, Field(max_length=MAX_TEXT_LENGTH)] = ""
    attachments: Annotated[list[FileUpload], Field(max_length=5)] = []
    # The widget's own id of the message: sending it again (a retry) stores it once.
    client_message_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class VisitorAuthor(OutputModel):
    """Who wrote a message, as a visitor may see it: a kind and a display name only."""

    kind: str
    name: str


class VisitorAttachment(OutputModel):
    """A file of a message, with a signed link to it."""

    id: str
    filename: str
    content_type: str
    size: int
    url: str | None


class VisitorMessage(OutputModel):
    """A message of the visitor's conversation (no notes, no agents' emails or ids)."""

    id: str
    direction: str
    text: str
    author: VisitorAuthor
    created_at: datetime
    attachments: list[VisitorAttachment]


class VisitorMessages(OutputModel):
    """The visitor's history on this channel, oldest first."""

    items: list[VisitorMessage]


class WidgetConfig(OutputModel):
    """What the widget needs to draw itself."""

    channel_id: str
    name: str
    color: str
    greeting: dict[str, str]
    pre_chat_fields: list[str]
    max_text_length: int
    max_attachment_bytes: int
    attachment_types: list[str]
