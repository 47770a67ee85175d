"""What the Channels page knows of a web chat channel: the widget's settings form, the script
tag to copy, the identity verification snippets and a refusal as messages beside the fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from rolodex.i18n import N_, translate

PROVIDER = "widget"
DEFAULT_COLOR = "#1f6feb"
MAX_ORIGINS = 20
# The pre-chat form's fields, in the order the widget asks them.
PRE_CHAT_FIELDS = (
    ("first_name", N_("First name")),
    ("last_name", N_("Last name")),
    ("email", N_("Email")),
)
LANGUAGES = (("en", N_("Greeting in English")), ("es", N_("Greeting in Spanish")))
# Said beside a field whose value the server refused for its shape; a message the server
# wrote for people (a value_error) is shown instead when there is one.
_INVALID = {
    "allowed_origins": N_(
        "Write one origin per line, 1 to 20 of them, each as scheme://host or "
        "scheme://host:port with no path, e.g. https://shop.example."
    ),
    "color": N_("Choose a colour written as # and six hex digits, e.g. #1f6feb."),
    "greeting_en": N_("Write at most 300 characters."),
    "greeting_es": N_("Write at most 300 characters."),
    "pre_chat_fields": N_("Choose among first name, last name and email."),
    "link_unverified_emails": N_("This value is not valid."),
}
# The environment variable the snippets read the secret from: a secret does not belong in code.
SECRET_VARIABLE = "ROLODEX_IDENTITY_SECRET"  # noqa: S105 - a variable's name


def settings_form(connection: Mapping[str, Any] | None) -> dict[str, Any]:
    """The settings form's values from a channel's stored connection (or the defaults)."""
    connection = connection or {}
    greeting = connection.get("greeting") or {}
    return {
        "allowed_origins": "\n".join(connection.get("allowed_origins") or []),
        "pre_chat_fields": list(connection.get("pre_chat_fields") or []),
        "color": connection.get("color") or DEFAULT_COLOR,
        "greeting_en": greeting.get("en", ""),
        "greeting_es": greeting.get("es", ""),
        "link_unverified_emails": bool(connection.get("link_unverified_emails")),
    }


def typed_form(form: Mapping[str, Any], pre_chat: list[str]) -> dict[str, Any]:
    """What the admin sent in the settings form, shown again as typed after a refusal."""

    def text(name: str) -> str:
        value = form.get(name, "")
        return value if isinstance(value, str) else ""

    return {
        "allowed_origins": text("allowed_origins"),
        "pre_chat_fields": [key for key, _label in PRE_CHAT_FIELDS if key in pre_chat],
        "color": text("color").strip() or DEFAULT_COLOR,
        "greeting_en": text("greeting_en"),
        "greeting_es": text("greeting_es"),
        "link_unverified_emails": text("link_unverified_emails") == "true",
    }


def connection_document(typed: Mapping[str, Any]) -> dict[str, Any]:
    """The widget `connection` the form asks for: one origin per non-empty line, the greetings
    that were written (an empty one falls back to the widget's own words)."""
    # An origin pasted from the address bar often ends in "/": that is still the origin.
    origins = [
        line.strip().removesuffix("/")
        for line in typed["allowed_origins"].splitlines()
        if line.strip()
    ]
    greeting = {
        lang: typed[f"greeting_{lang}"].strip()
        for lang, _label in LANGUAGES
        if typed[f"greeting_{lang}"].strip()
    }
    return {
        "provider": PROVIDER,
        "allowed_origins": origins,
        "pre_chat_fields": typed["pre_chat_fields"],
        "color": typed["color"],
        "greeting": greeting,
        "link_unverified_emails": typed["link_unverified_emails"],
    }


def _field(loc: tuple[Any, ...]) -> str:
    # The loc's shape depends on the union and on who refused it (the schema, a validator):
    # the form's field is found by the connection's key names anywhere in it.
    parts = [str(part) for part in loc]
    if "greeting" in parts:
        after = parts[parts.index("greeting") + 1 :]
        return "greeting_es" if "es" in after else "greeting_en"
    for name in _INVALID:
        if name in parts:
            return name
    return "form"


def field_of(name: str) -> str:
    """The form field of a problem's `field` (`connection.allowed_origins.2` → allowed_origins)."""
    return _field(tuple(name.replace("[", ".").replace("]", "").split(".")))


def validation_errors(exc: ValidationError) -> dict[str, str]:
    """The settings form's refusal as messages for people, by field."""
    out: dict[str, str] = {}
    for err in exc.errors():
        field = _field(tuple(err["loc"]))
        ctx = err.get("ctx") or {}
        if err["type"] == "value_error" and ctx.get("error") is not None:
            message = translate(str(ctx["error"]))
        else:
            message = translate(_INVALID.get(field, N_("This value is not valid.")))
        out.setdefault(field, message)
    return out


def script_tag(public_url: str, channel_id: str) -> str:
    """The one line a company pastes into its site."""
    return (
        f'<script src="{public_url.rstrip("/")}/widget.js" data-channel="{channel_id}" '
        "async></script>"
    )


def verified_script_tag(public_url: str, channel_id: str) -> str:
    """The script tag for a signed-in customer: their identifier and its hash, filled in by the
    company's server when it renders the page."""
    return (
        f'<script src="{public_url.rstrip("/")}/widget.js" data-channel="{channel_id}"\n'
        '        data-identifier="{{ user.id }}" data-identifier-hash="{{ identifier_hash }}" '
        "async></script>"
    )


def snippets() -> list[tuple[str, str, str]]:
    """How a company's server computes `identifier_hash`: (id, language, code) for Python,
    Node and PHP; hex HMAC-SHA256 keyed with the identity secret, over the identifier."""
    return [
        (
            "python",
            "Python",
            "import hashlib\nimport hmac\nimport os\n\n\n"
            "def identifier_hash(identifier: str) -> str:\n"
            f'    secret = os.environ["{SECRET_VARIABLE}"].encode()\n'
            "    return hmac.new(secret, identifier.encode(), hashlib.sha256).hexdigest()\n",
        ),
        (
            "node",
            "Node.js",
            'const crypto = require("node:crypto");\n\n'
            "function identifierHash(identifier) {\n"
            "  return crypto\n"
            f'    .createHmac("sha256", process.env.{SECRET_VARIABLE})\n'
            '    .update(identifier, "utf8")\n'
            '    .digest("hex");\n'
            "}\n",
        ),
        (
            "php",
            "PHP",
            "<?php\n"
            "function identifier_hash(string $identifier): string {\n"
            f"    return hash_hmac('sha256', $identifier, getenv('{SECRET_VARIABLE}'));\n"
            "}\n",
        ),
    ]
