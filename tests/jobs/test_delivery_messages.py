"""Why an outbox delivery cannot be sent again, written for the admin in their language (issue 16).

The refusal said "This delivery is done." (the job's raw status); it now says what that means,
and the stable code stays `delivery_not_retryable`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rolodex import i18n
from rolodex.errors import Conflict
from rolodex.jobs import service
from rolodex.kit import outbound
from rolodex.models import Job


@pytest.fixture
def spanish() -> Iterator[None]:
    i18n.use("es")
    yield
    i18n.use("en")


NOT_RETRYABLE = {
    "done": ("This delivery has already been delivered.", "Este envío ya se entregó."),
    "running": (
        "This delivery is being sent right now.",
        "Este envío se está enviando ahora mismo.",
    ),
    "cancelled": (
        "This delivery was cancelled; it cannot be sent again.",
        "Este envío se canceló; no se puede volver a enviar.",
    ),
}


@pytest.mark.parametrize("status", sorted(NOT_RETRYABLE))
async def test_a_delivery_that_cannot_be_sent_again_says_why(status: str) -> None:
    job = Job(status=status)
    for locale, text in zip(("en", "es"), NOT_RETRYABLE[status], strict=True):
        i18n.use(locale)
        try:
            with pytest.raises(Conflict) as refused:
                await service.send_now(None, job)  # type: ignore[arg-type]
        finally:
            i18n.use("en")
        assert refused.value.detail == text
        assert refused.value.code == "delivery_not_retryable"


def test_a_refused_target_is_told_in_the_readers_language(spanish: None) -> None:
    assert service.unsafe_target_message(outbound.UnsafeTarget("must use https")) == (
        "Usa una dirección https://."
    )
    unknown = outbound.UnsafeTarget("cannot resolve x.invalid: nope")
    assert service.unsafe_target_message(unknown) == "Esta dirección no se puede usar."
