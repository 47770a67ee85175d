"""`GET /widget.js`: one small script with its styles and Spanish texts (issue 20)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import httpx

from rolodex import i18n
from rolodex.webchat import pages

BUDGET = 30 * 1024  # gzipped, styles included (the budget)
SOURCE = Path(i18n.__file__).parent / "static" / "widget" / "widget.js"


async def test_the_served_widget_fits_the_budget(client: httpx.AsyncClient) -> None:
    """Gzipped ≤ 30 KB, JavaScript, cacheable, embeddable anywhere, markers all filled."""
    response = await client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    size = len(gzip.compress(response.content, compresslevel=9))
    assert size <= BUDGET, f"widget.js is {size} bytes gzipped (budget {BUDGET})"
    assert '"__ROLODEX_CSS__"' not in response.text
    assert '"__ROLODEX_MESSAGES__"' not in response.text
    assert ".launcher" in response.text  # the styles travel inside
    assert "Chatea con nosotros" in response.text  # and the Spanish
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"

    again = await client.get("/widget.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_every_widget_text_is_sent_translated() -> None:
    """Each `t("…")` of the script is in the route's list (so its Spanish is sent), and back."""
    used = set(re.findall(r'\bt\("((?:[^"\\]|\\.)*)"', SOURCE.read_text()))
    assert used == set(pages.MESSAGES)
    assert set(pages.translations("es")) == set(pages.MESSAGES)
