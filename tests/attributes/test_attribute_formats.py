"""The one normaliser per format (B7), shared by platform values and every other write."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolodex.attributes.formats import Format, normalize
from rolodex.attributes.service import slugify


@pytest.mark.parametrize(
    ("fmt", "raw", "value", "normalized"),
    [
        (Format.TEXT, "  Ada   LOVELACE ", "Ada   LOVELACE", "ada lovelace"),
        (Format.TEXT, 42, "42", "42"),
        (Format.NUMBER, "12.0", "12", "12"),
        (Format.NUMBER, 2.5, "2.5", "2.5"),
        (Format.EMAIL, " Ada@Example.TEST", "Ada@Example.TEST", "ada@example.test"),
        (Format.PHONE, "(415) 555-0123", "+14155550123", "+14155550123"),
        (Format.PHONE, "+34 612 345 678", "+34612345678", "+34612345678"),
        (Format.URL, "https://x.test/A", "https://x.test/A", "https://x.test/A"),
        (Format.DATE, "2024-02-29", "2024-02-29", "2024-02-29"),
    ],
)
def test_values_are_normalised(fmt: Format, raw: object, value: str, normalized: str) -> None:
    result = normalize(fmt, raw, "US")
    assert (result.value, result.normalized) == (value, normalized)


@pytest.mark.parametrize(
    ("fmt", "raw"),
    [
        (Format.NUMBER, "many"),
        (Format.NUMBER, True),
        (Format.NUMBER, 10**400),
        (Format.NUMBER, "inf"),
        (Format.EMAIL, "not-an-email"),
        (Format.PHONE, "call me"),
        (Format.PHONE, "12"),
        (Format.URL, "ftp://x.test"),
        (Format.URL, "x.test"),
        (Format.DATE, "2023-02-29"),
        (Format.DATE, "31/12/2024"),
        (Format.TEXT, "x" * 2001),
        (Format.TEXT, ["a"]),
    ],
)
def test_bad_values_raise_value_error(fmt: Format, raw: object) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        normalize(fmt, raw, "US")


def test_the_default_region_reads_national_numbers() -> None:
    assert normalize(Format.PHONE, "020 7946 0958", "GB").value == "+442079460958"


@given(st.text(max_size=300))
def test_slugs_are_always_valid_keys(label: str) -> None:
    slug = slugify(label)
    assert slug
    assert len(slug) <= 60
    assert all(c.isascii() and (c.isalnum() or c == "_") and not c.isupper() for c in slug)
