"""Linking across connected channels (R3.3, R3.4) end to end: an SMS arrives through Twilio's
signed webhook and a WhatsApp message through Meta's, both from the platform simulator to a
real `rolodex serve`; with `phone` the attribute used for matching and `sms-phone` and
`whatsapp-phone` mapped to it, the two contacts show one cross-channel history (issue 19)."""

from __future__ import annotations

from typing import Any

import pytest

from builders import make_workspace
from rolodex.db import Database
from support.e2e import Api, eventually
from support.live import LiveRolodex
from support.meta import PHONE_NUMBER_ID
from support.platform_simulator import PlatformSimulator

pytestmark = pytest.mark.slow
SID = "AC" + "7c3d" * 8
TWILIO_TOKEN = "twilio-linking-token"
NUMBER = "+15005550006"
# The same person: Twilio sends E.164, the WhatsApp user is written with spaces.
SMS_FROM = "+34600111222"
WHATSAPP_USER = {"phone": "+34 600 111 222", "name": "Kerry Fisher"}
STRANGER = {"phone": "+34 600 999 888", "name": "Someone Else"}
MATCHING = {
    "matching_attribute": "phone",
    "mappings": [{"from": "sms-phone", "to": "phone"}, {"from": "whatsapp-phone", "to": "phone"}],
}


async def _workspace(db: Database, rolodex: LiveRolodex, sim: PlatformSimulator) -> Api:
    """The admin's API with an SMS (Twilio) and a WhatsApp channel connected to the simulator."""
    admin = await make_workspace(db)
    api = Api(rolodex.url, admin.token)
    sms: dict[str, Any] = api(
        "POST",
        "/api/v1/channels",
        json={
            "medium": "sms",
            "name": "SMS Support",
            "connection": {
                "provider": "twilio",
                "account_sid": SID,
                "auth_token": TWILIO_TOKEN,
                "from_number": NUMBER,
                "api_url": sim.url,
            },
        },
    )
    sim.twilio(
        "accounts",
        {
            "account_sid": SID,
            "auth_token": TWILIO_TOKEN,
            "from_number": NUMBER,
            "webhook_url": sms["webhook_url"],
        },
    )
    whatsapp: dict[str, Any] = api(
        "POST",
        "/api/v1/channels",
        json={
            "medium": "whatsapp",
            "name": "WhatsApp Support",
            "connection": {
                "provider": "whatsapp_cloud",
                "phone_number_id": PHONE_NUMBER_ID,
                "access_token": "EAAG-linking-token",
                "app_secret": "wa-linking-secret",
                "graph_url": sim.url,
            },
        },
    )
    sim.add_account(
        platform="whatsapp",
        id=PHONE_NUMBER_ID,
        access_token="EAAG-linking-token",
        webhook_url=whatsapp["webhook_url"],
        verify_token=whatsapp["connection"]["verify_token"],
        app_secret="wa-linking-secret",
    )
    phone = {"label": "Phone", "key": "phone", "type": "text", "format": "phone"}
    api("POST", "/api/v1/attributes", json=phone)
    return api


def _customer_writes(api: Api, sim: PlatformSimulator) -> dict[str, dict[str, Any]]:
    """The person texts and then writes on WhatsApp, a stranger too: conversations by medium."""
    posted = sim.twilio("inbound", {"from": SMS_FROM, "body": "My parcel is late"})
    assert posted["status"] == 200, posted
    eventually(lambda: len(api.conversations()) == 1, dump=api.conversations)
    sim.inbound(account_id=PHONE_NUMBER_ID, user=WHATSAPP_USER, type="text", text="Any news?")
    eventually(lambda: len(api.conversations()) == 2, dump=api.conversations)
    sim.inbound(account_id=PHONE_NUMBER_ID, user=STRANGER, type="text", text="Hello")

    def all_three() -> list[dict[str, Any]]:
        seen = api.conversations()
        return seen if len(seen) == 3 else []

    found = eventually(all_three, dump=api.conversations)
    by_text = {c["last_message"]["text"]: c for c in found}
    return {
        "sms": by_text["My parcel is late"],
        "whatsapp": by_text["Any news?"],
        "stranger": by_text["Hello"],
    }


def _history(api: Api, contact_id: str) -> list[dict[str, Any]]:
    """The cross-channel history the contact page shows, newest first."""
    items: list[dict[str, Any]] = api("GET", f"/api/v1/contacts/{contact_id}/conversations")[
        "items"
    ]
    return items


def _linked_both_ways(api: Api, made: dict[str, dict[str, Any]]) -> None:
    sms, whatsapp = made["sms"], made["whatsapp"]
    reason = {"attribute": "phone", "value": SMS_FROM}
    for own, other in ((sms, whatsapp), (whatsapp, sms)):
        history = _history(api, own["contact_id"])
        assert [h["id"] for h in history] == [whatsapp["id"], sms["id"]]  # newest first
        mine = next(h for h in history if h["id"] == own["id"])
        theirs = next(h for h in history if h["id"] == other["id"])
        assert mine["linked_because"] is None
        assert theirs["linked_because"] == reason
        assert theirs["contact_id"] == other["contact_id"]
        [link] = api("GET", f"/api/v1/contacts/{own['contact_id']}/links")
        assert link["contact_id"] == other["contact_id"]
        assert link["reason"] == reason
    by_id = {h["id"]: h for h in _history(api, sms["contact_id"])}
    assert (by_id[sms["id"]]["medium"], by_id[sms["id"]]["channel_name"]) == ("sms", "SMS Support")
    assert (by_id[whatsapp["id"]]["medium"], by_id[whatsapp["id"]]["channel_name"]) == (
        "whatsapp",
        "WhatsApp Support",
    )
    assert by_id[whatsapp["id"]]["last_message_text"] == "Any news?"
    # Someone else's number is not linked to either.
    [alone] = _history(api, made["stranger"]["contact_id"])
    assert alone["id"] == made["stranger"]["id"]
    assert api("GET", f"/api/v1/contacts/{made['stranger']['contact_id']}/links") == []


async def test_an_sms_and_a_whatsapp_contact_with_one_number_share_one_history(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """Matching set first: the platforms' phone values fill `phone` as the messages arrive."""
    api = await _workspace(db, rolodex, simulator)
    assert api("PATCH", "/api/v1/settings/contacts", json=MATCHING) == MATCHING
    made = _customer_writes(api, simulator)
    assert made["sms"]["contact_id"] != made["whatsapp"]["contact_id"]  # two contacts, linked
    sms_contact = api("GET", f"/api/v1/contacts/{made['sms']['contact_id']}")
    assert sms_contact["attributes"]["sms-phone"] == SMS_FROM
    assert sms_contact["attributes"]["phone"] == SMS_FROM
    wa_contact = api("GET", f"/api/v1/contacts/{made['whatsapp']['contact_id']}")
    assert wa_contact["attributes"]["whatsapp-phone"] == SMS_FROM
    assert wa_contact["attributes"]["phone"] == SMS_FROM
    _linked_both_ways(api, made)


async def test_matching_set_afterwards_links_and_clearing_it_unlinks(
    db: Database, rolodex: LiveRolodex, simulator: PlatformSimulator
) -> None:
    """Earlier contacts are linked by the backfill job; clearing the setting unlinks (R3.4)."""
    api = await _workspace(db, rolodex, simulator)
    made = _customer_writes(api, simulator)
    assert len(_history(api, made["sms"]["contact_id"])) == 1  # no matching attribute yet

    api("PATCH", "/api/v1/settings/contacts", json=MATCHING)
    eventually(
        lambda: len(_history(api, made["sms"]["contact_id"])) == 2,
        dump=lambda: _history(api, made["sms"]["contact_id"]),
    )
    _linked_both_ways(api, made)

    cleared = api("PATCH", "/api/v1/settings/contacts", json={"matching_attribute": None})
    assert cleared == {"matching_attribute": None, "mappings": MATCHING["mappings"]}
    for conversation in (made["sms"], made["whatsapp"]):
        [own] = _history(api, conversation["contact_id"])
        assert own["id"] == conversation["id"]
        assert api("GET", f"/api/v1/contacts/{conversation['contact_id']}/links") == []
        contact = api("GET", f"/api/v1/contacts/{conversation['contact_id']}")
        assert contact["attributes"]["phone"] == SMS_FROM
