"""Built-in labels (platform attributes, VIP, mediums, plan features) in the reader's language;
the labels stored in definition rows and every key stay as they were."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rolodex import catalogue, i18n
from rolodex.catalogue import CATALOGUE, MEDIUM_LABELS, Medium, label_of, medium_label
from rolodex.plans import Feature, feature_name


@pytest.fixture
def spanish() -> Iterator[None]:
    i18n.use("es")
    yield
    i18n.use(i18n.DEFAULT_LOCALE)


# How catalogue.py named each medium, and built each label from it, before labels became message
# ids: the definition rows of every workspace hold these labels, so they must not change.
_MEDIUMS_BEFORE = {
    Medium.TWITTER: "Twitter",
    Medium.INSTAGRAM: "Instagram",
    Medium.FACEBOOK: "Facebook",
    Medium.WHATSAPP: "WhatsApp",
    Medium.SMS: "SMS",
    Medium.EMAIL: "Email",
    Medium.WEBCHAT: "Web chat",
}


def _label_before_translation(medium: Medium, name: str) -> str:
    words = {"id": "ID", "url": "URL"}
    return f"{_MEDIUMS_BEFORE[medium]} {' '.join(words.get(w, w) for w in name.split('-'))}"


def test_stored_labels_and_keys_are_unchanged() -> None:
    for medium, attributes in CATALOGUE.items():
        for name, attribute in attributes.items():
            assert attribute.key == f"{medium.value}-{name}"
            assert attribute.label == _label_before_translation(medium, name)
    assert len(catalogue.BUILTIN_LABELS) == 1 + sum(len(a) for a in CATALOGUE.values())
    assert catalogue.BUILTIN_LABELS["vip"] == "VIP"


def test_english_readers_see_the_english_labels() -> None:
    assert label_of("webchat-first-name", "Web chat first name") == "Web chat first name"
    assert medium_label(Medium.EMAIL) == "Email"
    assert medium_label("webchat") == "Web chat"
    assert feature_name(Feature.VIP) == "VIP contacts"


@pytest.mark.usefixtures("spanish")
def test_spanish_readers_see_built_in_labels_in_spanish() -> None:
    assert label_of("whatsapp-phone", "WhatsApp phone") == "Teléfono de WhatsApp"
    assert label_of("webchat-email", "Web chat email") == "Correo electrónico del chat web"
    assert label_of("vip", "VIP") == "VIP"
    assert CATALOGUE[Medium.TWITTER]["user-id"].shown_label == "ID de usuario de Twitter"
    assert medium_label(Medium.EMAIL) == "Correo electrónico"
    assert medium_label(Medium.WEBCHAT) == "Chat web"
    assert medium_label(Medium.TWITTER) == "Twitter/X"
    assert medium_label("carrier-pigeon") == "carrier-pigeon"
    assert feature_name(Feature.CRM_INTEGRATION) == "Integración con el CRM"


@pytest.mark.usefixtures("spanish")
def test_labels_people_typed_are_data_not_translated() -> None:
    # A custom attribute that happens to be called like a built-in one, and a renamed built-in.
    assert label_of("order_email", "Web chat email") == "Web chat email"
    assert label_of("webchat-email", "Shop email") == "Shop email"
    assert label_of("número_de_pedido", "Número de pedido") == "Número de pedido"


# Names that Spanish keeps as they are.
SAME_IN_SPANISH = {"VIP", "Twitter/X", "Instagram", "Messenger", "WhatsApp", "SMS"}


@pytest.mark.usefixtures("spanish")
def test_every_built_in_label_has_its_spanish() -> None:
    untranslated = [
        label
        for label in [*catalogue.BUILTIN_LABELS.values(), *MEDIUM_LABELS.values()]
        if i18n.translate(label) == label
        and label not in {"VIP", "Instagram", "Messenger"}
        and label not in {"Twitter/X", "WhatsApp", "SMS"}
    ]
    assert untranslated == []
