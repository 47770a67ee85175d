"""The demo workspace that `rolodex demo` and `make run` create for a newcomer.

Everything after the workspace itself goes through the same service calls as the
API: channels are created as an admin would, messages arrive through the inbound
path, agents reply and change statuses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from rolodex.attributes import service as attributes
from rolodex.attributes import updates
from rolodex.attributes.schemas import AttributeCreate, AttributeUpdate
from rolodex.auth.principals import Principal, Role, TokenKind
from rolodex.bots import service as bots
from rolodex.bots.schemas import Activation, BotCreate, Handoff, OnError
from rolodex.catalogue import Medium
from rolodex.channels import inbound
from rolodex.channels import service as channels
from rolodex.channels.schemas import ChannelCreate, InboundMessage
from rolodex.config import Settings
from rolodex.conversations import service as conversations
from rolodex.conversations.schemas import ConversationUpdate, MessageCreate, Status
from rolodex.crm import service as crm
from rolodex.crm.schemas import CrmIntegrationUpdate
from rolodex.db import Database, SessionDep, TransactionalRoute
from rolodex.errors import NotFound
from rolodex.i18n import gettext
from rolodex.kit.clock import utcnow
from rolodex.plans import Plan
from rolodex.users import service as users
from rolodex.users.schemas import TeamCreate, UserCreate
from rolodex.web import PACKAGE_DIR, page
from rolodex.workspaces import repository, service

DEMO_NAME = "Rolodex Demo"
DEMO_CRM_SECRET_FILE = "demo-crm-secret"  # noqa: S105 - a file name
# The web chat's bot: the reference bot (examples/reference_bot) that `make run` starts on this
# URL, reading its signing secret from this file in the data dir.
DEMO_BOT_NAME = "Shop assistant"
DEMO_BOT_URL = "http://127.0.0.1:8030/webhook"
DEMO_BOT_SECRET_FILE = "demo-bot-secret"  # noqa: S105 - a file name
DEMO_ORDER_ATTRIBUTE = "order_number"
# The accounts `make run` registers in the platform simulator (examples/platform_simulator).
DEMO_SIMULATOR_FILE = "demo-simulator.json"

# The demo's Meta channels, connected to the simulator: (provider, id field, token field,
# simulator platform, account id, display name).
_SIMULATED = {
    "wa": ("whatsapp_cloud", "phone_number_id", "access_token", "whatsapp", "109900100200"),
    "fb": ("messenger", "page_id", "page_access_token", "messenger", "100200300400"),
    "ig": ("instagram", "account_id", "page_access_token", "instagram", "17841400000000"),
}
# Its SMS channel's Twilio account and number, and its X accounts (user id, @handle).
DEMO_TWILIO_SID = "AC" + "de" * 16
DEMO_SMS_NUMBER = "+34900100201"
_X_ACCOUNTS = {
    "tw": ("1500000000000000001", "acme"),
    "tw_help": ("1500000000000000002", "acme_help"),
}
# Its email channel's address; replies leave through the simulator's SMTP sink on this port
# (make run starts it so), and customers' mail reaches Rolodex's own listener (make run:
# ROLODEX_SMTP_PORT=2525).
DEMO_EMAIL_ADDRESS = "support@acme.example"
DEMO_SMTP_SINK_PORT = 8025
# Its web chat: the widget on the demo shop page Rolodex serves (/demo/site, make run's
# Rolodex on port 8000, by either name) and on the simulator's page (port 8020).
DEMO_SITE_PATH = "/demo/site"
DEMO_WEBCHAT_ORIGINS = ("http://127.0.0.1:8000", "http://localhost:8000", "http://127.0.0.1:8020")
DEMO_PASSWORD = "rolodex-demo"  # noqa: S105 - printed for newcomers on purpose
DEMO_LOGINS = (
    ("admin", "admin@demo.rolodex.test", DEMO_PASSWORD),
    ("agent", "ana@demo.rolodex.test", DEMO_PASSWORD),
    ("agent", "ben@demo.rolodex.test", DEMO_PASSWORD),
)
_AGENT_NAMES = ("Ana Agent", "Ben Agent")

# (channel key, medium, name)
_CHANNELS = (
    ("chat", Medium.WEBCHAT, "Shop chat"),
    ("wa", Medium.WHATSAPP, "WhatsApp +34 900 100 200"),
    ("sms", Medium.SMS, "SMS +34 900 100 201"),
    ("tw", Medium.TWITTER, "@acme"),
    ("tw_help", Medium.TWITTER, "@acme_help"),
    ("ig", Medium.INSTAGRAM, "@acme.shop"),
    ("fb", Medium.FACEBOOK, "Acme on Messenger"),
    ("mail", Medium.EMAIL, DEMO_EMAIL_ADDRESS),
)


@dataclass
class _Message:
    channel: str
    sender: str
    text: str
    attributes: dict[str, Any] = field(default_factory=dict)
    reply: str = ""  # an agent's answer, which sets the conversation pending
    then: Status | None = None  # a later status change by the agent


# Some people write on several channels: Lucía on WhatsApp and SMS, Marco on web chat and
# email, @jdoe to both Twitter accounts (one contact: R3.2).
_MESSAGES = (
    _Message(
        "wa",
        "34612345678",
        "Hola! My order #1234 still hasn't arrived 😟",
        {"phone": "+34 612 345 678", "profile-name": "Lucía F."},
    ),
    _Message(
        "sms",
        "+34612345678",
        "Any news on order 1234? — Lucía",
        {"phone": "0034 612 345 678"},
        reply="Hi Lucía, it ships today!",
    ),
    _Message(
        "chat",
        "wc-7781",
        "Do you ship to Milan?",
        {
            "first-name": "Marco",
            "last-name": "Rossi",
            "email": "Marco.Rossi@example.com",
            "page-url": "https://shop.acme.example/p/espresso-cup",
            "page-title": "Espresso cup",
            "page-domain": "shop.acme.example",
            "browser-language": "it-IT",
        },
        reply="We do — 2 to 3 working days.",
        then=Status.RESOLVED,
    ),
    _Message(
        "mail",
        "marco.rossi@example.com",
        "Invoice for order 5521, please",
        {"address": "marco.rossi@example.com", "name": "Marco Rossi"},
    ),
    _Message(
        "tw",
        "1029384756",
        "@acme my discount code doesn't work",
        {
            "user-id": "1029384756",
            "handle": "jdoe",
            "name": "Jane Doe",
            "followers": 5400,
            "location": "Dublin",
            "language": "en",
        },
    ),
    _Message(
        "tw_help",
        "1029384756",
        "@acme_help following up on my code issue",
        {"user-id": "1029384756", "handle": "jdoe", "name": "Jane Doe", "followers": 5401},
    ),
    _Message(
        "ig",
        "178223",
        "Is the blue mug back in stock?",
        {"user-id": "178223", "username": "sofia.design", "name": "Sofía Díaz", "followers": 12800},
        reply="Next week! Want us to ping you?",
    ),
    _Message(
        "fb",
        "fb-5512",
        "Can I change my delivery address?",
        {"user-id": "fb-5512", "profile-name": "Priya Nair", "locale": "en_GB"},
    ),
)


def how_to_play(settings: Settings) -> list[str]:
    """How a newcomer writes to the demo as a customer on each channel (for `rolodex demo`)."""
    url = settings.demo_simulator_url
    return [
        # Where the server listens is known only once it serves: the path, then.
        f"Play a website visitor on the demo shop page, {DEMO_SITE_PATH} on the server (its "
        "login page links to it): the web chat is in the page's corner.",
        f"  The web chat's '{DEMO_BOT_NAME}' bot answers first there (examples/reference_bot, "
        "`make run` starts it); say 'talk to a person' to be handed over.",
        f"Play the customer on the platform simulator's page, {url} "
        "(`make run` starts it: examples/platform_simulator):",
        "  WhatsApp, Messenger, Instagram: the 'Customer's phone' form;",
        f"  SMS: 'SMS (Twilio)', from any number to {DEMO_SMS_NUMBER};",
        "  X: 'X direct message', to @acme or @acme_help;",
        f"  email: 'Email', to {DEMO_EMAIL_ADDRESS} (delivered to Rolodex's SMTP listener, "
        "ROLODEX_SMTP_PORT=2525 in make run; any mail client does too).",
        "Agents' replies show there: SMS in Twilio's Messages log, X in its DM log, email in "
        f"the simulator's SMTP sink (port {DEMO_SMTP_SINK_PORT}), the demo channel's mail server.",
    ]


async def demo_exists(database: Database) -> bool:
    """Whether this database holds the demo workspace."""
    async with database.reader() as session:
        return await repository.find_by_name(session, DEMO_NAME) is not None


async def seed_demo(database: Database, settings: Settings) -> bool:
    """Fill the demo workspace unless it exists; returns whether it was created."""
    async with database.transaction() as session:
        if await repository.find_by_name(session, DEMO_NAME) is not None:
            return False
        created = await service.create_workspace(
            session,
            name=DEMO_NAME,
            plan=Plan.ENTERPRISE,
            admin_email=DEMO_LOGINS[0][1],
            admin_password=DEMO_PASSWORD,
            admin_name="Alex Admin",
            default_phone_region="ES",
        )
        admin = _acting_as(created.workspace_id, created.admin_user_id, Role.ADMIN, "Alex Admin")
        agents = await _people(session, admin)
        await _conversations(session, admin, agents[0], settings)
    return True


# Custom attributes the demo's CRM (examples/reference_crm) fills; customer_id is also a
# lookup attribute, like web chat's email.
_CRM_ATTRIBUTES = (
    ("Customer ID", "customer_id", None, True),
    ("Tier", "tier", ["gold", "silver", "bronze"], False),
    ("Account manager", "account_manager", None, False),
    ("Plan", "plan", None, False),
)


Connected = tuple[dict[str, Any] | None, dict[str, Any] | None]


def _simulated(key: str, settings: Settings) -> Connected:
    # A connection to the simulator, and the account the simulator must know for it (the
    # demo's tokens and secrets are fixed: they only open the local simulator).
    if key == "sms":
        return _twilio(settings)
    if key in _X_ACCOUNTS:
        return _x(key, settings)
    if key == "mail":
        return _email(settings)
    if key == "chat":
        return _webchat(), None
    if key not in _SIMULATED:
        return None, None
    provider, id_field, token_field, platform, account_id = _SIMULATED[key]
    token, secret = f"demo-{key}-token", f"demo-{key}-app-secret"
    connection = {
        "provider": provider,
        id_field: account_id,
        token_field: token,
        "app_secret": secret,
        "graph_url": settings.demo_simulator_url,
    }
    account = {
        "platform": platform,
        "id": account_id,
        "access_token": token,
        "app_secret": secret,
        "auto_status": "delivered",
    }
    return connection, account


def _twilio(settings: Settings) -> Connected:
    token = "demo-sms-auth-token"  # noqa: S105 - opens the local simulator only
    connection = {
        "provider": "twilio",
        "account_sid": DEMO_TWILIO_SID,
        "auth_token": token,
        "from_number": DEMO_SMS_NUMBER,
        "api_url": settings.demo_simulator_url,
    }
    account = {
        "platform": "twilio",
        "account_sid": DEMO_TWILIO_SID,
        "auth_token": token,
        "from_number": DEMO_SMS_NUMBER,
        "friendly_name": "Acme",
    }
    return connection, account


def _x(key: str, settings: Settings) -> Connected:
    user_id, handle = _X_ACCOUNTS[key]
    secret, token = f"demo-{key}-consumer-secret", f"demo-{key}-access-token"
    connection = {
        "provider": "x",
        "account_user_id": user_id,
        "consumer_secret": secret,
        "access_token": token,
        "api_url": settings.demo_simulator_url,
    }
    account = {
        "platform": "x",
        "user_id": user_id,
        "consumer_secret": secret,
        "access_token": token,
        "username": handle,
        "name": "Acme",
    }
    return connection, account


def _email(settings: Settings) -> Connected:
    connection = {
        "provider": "smtp",
        "address": DEMO_EMAIL_ADDRESS,
        "display_name": "Acme Support",
        "smtp_host": urlsplit(settings.demo_simulator_url).hostname or "127.0.0.1",
        "smtp_port": DEMO_SMTP_SINK_PORT,
    }
    # Mail has no webhook: the simulator lists the address for its customer page only.
    return connection, {"platform": "email", "address": DEMO_EMAIL_ADDRESS, "name": "Acme"}


def _webchat() -> dict[str, Any]:
    # No platform: the widget is Rolodex's own, and visitors reach Rolodex directly.
    return {
        "provider": "widget",
        "allowed_origins": list(DEMO_WEBCHAT_ORIGINS),
        "pre_chat_fields": ["first_name", "email"],
        "color": "#8a4b2a",
        "greeting": {
            "en": "Hi! Questions about an order or a product? Ask away.",
            "es": "¡Hola! ¿Dudas sobre un pedido o un producto? Pregúntanos.",
        },
    }


async def _crm(session: AsyncSession, admin: Principal, settings: Settings) -> None:
    # Wired to the reference CRM that `make run` starts beside Rolodex; its shared secret is
    # left in the data dir for that command to hand over.
    for label, key, options, lookup in _CRM_ATTRIBUTES:
        kind = "dropdown" if options else "text"
        await attributes.create_attribute(
            session, admin, AttributeCreate(label=label, key=key, type=kind, options=options)
        )
        await updates.update_attribute(
            session, admin, key, AttributeUpdate(crm_managed=True, lookup=lookup)
        )
    await updates.update_attribute(session, admin, "webchat-email", AttributeUpdate(lookup=True))
    url = settings.demo_crm_url.rstrip("/")
    connected = await crm.put_integration(
        session,
        admin,
        CrmIntegrationUpdate(
            lookup_url=f"{url}/lookup",
            write_back_url=f"{url}/write-back",
            notification_url=f"{url}/notifications",
        ),
        allow_private=True,
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / DEMO_CRM_SECRET_FILE).write_text(connected.shared_secret or "")


async def _shop_assistant(
    session: AsyncSession, admin: Principal, settings: Settings, chat_id: str
) -> None:
    # The web chat's inception bot, the reference bot `make run` starts beside Rolodex: it
    # notes order numbers in a custom attribute. Created after the seeded conversations, so
    # it holds only the ones visitors start. Its secret is left in the data dir for make run.
    await attributes.create_attribute(
        session,
        admin,
        AttributeCreate(label="Order number", key=DEMO_ORDER_ATTRIBUTE, type="text"),
    )
    bot = await bots.create_bot(
        session,
        admin,
        BotCreate(
            name=DEMO_BOT_NAME,
            webhook_url=DEMO_BOT_URL,
            activation=Activation.INCEPTION,
            channel_ids=[chat_id],
            handoff=Handoff.NEW_QUEUE,
            response_timeout_seconds=300,
            on_error=OnError.NEW,
        ),
        allow_private=True,
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / DEMO_BOT_SECRET_FILE).write_text(bot.secret)


def _acting_as(workspace_id: str, user_id: str, role: Role, name: str) -> Principal:
    # The demo acts as its own users, through the services their requests would call.
    return Principal(
        workspace_id=workspace_id,
        plan=Plan.ENTERPRISE.value,
        kind=TokenKind.USER,
        token_id="demo",  # noqa: S106 - an id, not a secret
        user_id=user_id,
        role=role,
        name=name,
    )


async def _people(session: AsyncSession, admin: Principal) -> list[Principal]:
    agents = []
    for (_, email, password), name in zip(DEMO_LOGINS[1:], _AGENT_NAMES, strict=True):
        user = await users.create_user(
            session, admin, UserCreate(email=email, name=name, role=Role.AGENT, password=password)
        )
        agents.append(_acting_as(admin.workspace_id, user.id, Role.AGENT, name))
    ids = [a.user_id or "" for a in agents]
    await users.create_team(session, admin, TeamCreate(name="Support", member_ids=ids))
    await users.create_team(session, admin, TeamCreate(name="VIP desk", member_ids=ids[:1]))
    return agents


async def _conversations(
    session: AsyncSession, admin: Principal, agent: Principal, settings: Settings
) -> None:
    channel_ids = {}
    accounts = []
    # The simulator listens on loopback: the demo (and make run's server) may reach it.
    local = settings.model_copy(update={"allow_private_webhook_targets": True})
    for key, medium, name in _CHANNELS:
        connection, account = _simulated(key, settings)
        data = ChannelCreate.model_validate(
            {"medium": medium, "name": name, "connection": connection}
        )
        channel = await channels.create_channel(session, admin, data, local)
        channel_ids[key] = channel.id
        if account is not None and account["platform"] == "email":
            accounts.append(account)  # mail reaches Rolodex by SMTP, not by a webhook
        elif account is not None:
            webhook_url = channels.read(channel, settings).webhook_url
            accounts.append({**account, "webhook_url": webhook_url})
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / DEMO_SIMULATOR_FILE).write_text(json.dumps(accounts, indent=2))
    await _crm(session, admin, settings)
    start = utcnow() - timedelta(hours=len(_MESSAGES))
    for number, item in enumerate(_MESSAGES):
        message = InboundMessage(
            external_message_id=f"demo-{number}",
            sender={"id": item.sender, "attributes": item.attributes},
            text=item.text,
            sent_at=start + timedelta(hours=number),
        )
        received = await inbound.receive(
            session,
            admin,
            channel_ids[item.channel],
            message,
            data_dir=settings.data_dir,
            max_attachment_bytes=settings.max_attachment_bytes,
        )
        if item.reply:
            await conversations.reply(
                session, agent, received.conversation_id, MessageCreate(text=item.reply)
            )
        if item.then is not None:
            await conversations.update_conversation(
                session,
                agent,
                received.conversation_id,
                ConversationUpdate(status=item.then, reason="answered"),
            )
    await _shop_assistant(session, admin, settings, channel_ids["chat"])


# --- The demo shop page: a newcomer plays a website visitor ------------------------------

router = APIRouter(include_in_schema=False, route_class=TransactionalRoute)


async def _site_channel(session: AsyncSession) -> str | None:
    # The demo workspace's connected, enabled web chat channel, if the demo exists.
    workspace = await repository.find_by_name(session, DEMO_NAME)
    if workspace is None:
        return None
    reader = Principal(
        workspace_id=workspace.id,
        plan=workspace.plan,
        kind=TokenKind.USER,
        token_id="demo-site",  # noqa: S106 - an id, not a secret
        role=Role.ADMIN,
    )
    rows, _next = await channels.list_channels(session, reader, cursor=None, limit=100)
    for channel in rows:
        if channel.provider == "widget" and channel.enabled and not channel.archived:
            return channel.id
    return None


async def demo_site_channel_id(database: Database) -> str | None:
    """The web chat channel the demo shop page embeds; None when there is no demo."""
    async with database.reader() as session:
        return await _site_channel(session)


@router.get(DEMO_SITE_PATH, response_class=HTMLResponse)
async def demo_site(request: Request, session: SessionDep) -> HTMLResponse:
    """A small shop page with the demo's web chat on it (404 unless the demo exists)."""
    channel_id = await _site_channel(session)
    if channel_id is None:
        raise NotFound(gettext("There is no demo workspace here."))
    # The script comes from this very origin (the page's CSP allows only its own scripts); the
    # widget then talks to the origin it came from, which the demo channel allows.
    return page(request, "channels/demo_site.html", None, channel_id=channel_id)


@router.get(f"{DEMO_SITE_PATH}.css")
async def demo_site_css() -> Response:
    """The demo shop page's own look (the page loads only its own styles)."""
    css = (PACKAGE_DIR / "templates" / "channels" / "demo_site.css").read_text(encoding="utf-8")
    return Response(
        css,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )
