"""Email address validation and normalisation (syntax only: no DNS look-ups, ever)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def normalize_email(value: str) -> str:
    """The address trimmed and lower-cased; ValueError with a reason when it is not one.

    `.test` addresses are accepted (test_environment): teams try products with them.
    """
    try:
        info = validate_email(value.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return info.normalized.lower()
