"""Every SQLAlchemy model, imported here so that metadata and Alembic see them all."""

from rolodex.models.attributes import (
    AttributeChannelDisabled,
    AttributeDefinition,
    AttributeHistory,
    AttributeValue,
)
from rolodex.models.audit import AuditEvent, AuditEventContact
from rolodex.models.base import Base
from rolodex.models.bots import Bot, BotLogEntry, BotUpload
from rolodex.models.channels import Channel, WebhookEvent
from rolodex.models.contacts import Contact
from rolodex.models.conversations import (
    Attachment,
    Conversation,
    ConversationEvent,
    ConversationLabel,
    ConversationReadMark,
    Label,
    Message,
    MessageReaction,
)
from rolodex.models.crm import CrmContactState, CrmIntegration
from rolodex.models.exports import Export
from rolodex.models.groups import ContactGroup, ContactGroupMember, RoutingSettings
from rolodex.models.jobs import Job
from rolodex.models.linking import AttributeMapping, ContactSettings
from rolodex.models.privacy import DeletedContact, PrivacySettings
from rolodex.models.throttle import LoginFailure
from rolodex.models.users import ApiToken, OAuthClient, Team, TeamMember, User
from rolodex.models.webchat import WebchatSession
from rolodex.models.webhooks import Webhook
from rolodex.models.workspaces import Workspace

__all__ = [
    "ApiToken",
    "Attachment",
    "AttributeChannelDisabled",
    "AttributeDefinition",
    "AttributeHistory",
    "AttributeMapping",
    "AttributeValue",
    "AuditEvent",
    "AuditEventContact",
    "Base",
    "Bot",
    "BotLogEntry",
    "BotUpload",
    "Channel",
    "Contact",
    "ContactGroup",
    "ContactGroupMember",
    "ContactSettings",
    "Conversation",
    "ConversationEvent",
    "ConversationLabel",
    "ConversationReadMark",
    "CrmContactState",
    "CrmIntegration",
    "DeletedContact",
    "Export",
    "Job",
    "Label",
    "LoginFailure",
    "Message",
    "MessageReaction",
    "OAuthClient",
    "PrivacySettings",
    "RoutingSettings",
    "Team",
    "TeamMember",
    "User",
    "WebchatSession",
    "Webhook",
    "WebhookEvent",
    "Workspace",
]
