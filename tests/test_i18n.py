"""The catalogs are complete and nothing a person reads escapes them (B10)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from rolodex import i18n

PACKAGE = Path(i18n.__file__).parent
METHODS = [
    ("templates/**.html", "jinja2"),
    ("static/**.js", "javascript"),
    ("**.py", "python"),
]
KEYWORDS = {"_": None, "N_": None, "lazy_gettext": None, "ngettext": (1, 2), "t": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")
# Words that read the same in both languages (names, not messages).
SAME_IN_BOTH = {"Rolodex", "Email", "Webhooks", "CRM", "API", "VIP", "ID", "URL", "OK"}


def _reads_as_text(text: str) -> bool:
    """Whether a person would read this as words (not only names, numbers and marks)."""
    words = re.findall(r"[A-Za-z]{2,}", re.sub(r"\$\{[^}]*\}", "", text))
    return any(word not in SAME_IN_BOTH for word in words)


def _extracted() -> set[str]:
    found: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(PACKAGE), METHODS, keywords=KEYWORDS, comment_tags=()
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _spanish() -> dict[str, object]:
    path = Path(str(i18n.CATALOG).format(locale="es"))
    with path.open("rb") as po:
        catalog = read_po(po, locale="es")
    return {
        (m.id if isinstance(m.id, str) else m.id[0]): m.string
        for m in catalog
        if m.id and m.string and not m.fuzzy
    }


def test_every_message_has_its_spanish() -> None:
    """Every message id in the code, templates and scripts has a Spanish text in the catalog."""
    spanish = _spanish()
    missing = sorted(m for m in _extracted() if m not in spanish)
    assert not missing, f"{len(missing)} lack Spanish (run scripts/i18n.py): {missing[:20]}"


def test_spanish_keeps_every_placeholder() -> None:
    """A translation names the same %(placeholders)s as its message id."""
    wrong = []
    for message_id, text in _spanish().items():
        texts = text if isinstance(text, tuple) else (text,)
        for t in texts:
            if set(PLACEHOLDER.findall(message_id)) != set(PLACEHOLDER.findall(str(t))):
                wrong.append((message_id, t))
    assert not wrong, wrong[:10]


class _TextFinder(HTMLParser):
    """Collects the text a person reads that is not inside a translation call."""

    HUMAN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "label")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in self.HUMAN_ATTRIBUTES and value and _reads_as_text(value):
                self.found.append(f"{tag}[{name}]={value!r}")
            if (
                tag == "input"
                and name == "value"
                and value
                and dict(attrs).get("type")
                in (
                    "submit",
                    "button",
                )
            ):
                self.found.append(f"input[value]={value!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if not self._skip and _reads_as_text(text):
            self.found.append(repr(text))


def _without_jinja(source: str) -> str:
    source = re.sub(r"{#.*?#}", "", source, flags=re.S)
    source = re.sub(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", "", source, flags=re.S)
    source = re.sub(r"{{.*?}}", "", source, flags=re.S)
    return re.sub(r"{%.*?%}", "", source, flags=re.S)


@pytest.mark.parametrize(
    "template",
    sorted(p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "templates").rglob("*.html")),
)
def test_templates_have_no_untranslated_text(template: str) -> None:
    """Outside `_()` and `{% trans %}` a template holds markup only (the extraction check)."""
    finder = _TextFinder()
    finder.feed(_without_jinja((PACKAGE / template).read_text()))
    assert not finder.found, finder.found


# A literal a person reads in the pages' JavaScript: an element's text, a title, a prompt.
JS_TEXT = re.compile(
    r"""(?:\b(?:text|title|placeholder|"aria-label"|label)\s*:\s*|\.textContent\s*=\s*|"""
    r"""\b(?:confirm|alert|prompt)\()\s*(["'`])((?:(?!\1).)*[A-Za-z]{2}(?:(?!\1).)*)\1"""
)


@pytest.mark.parametrize(
    "script", sorted(p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "static").rglob("*.js"))
)
def test_scripts_have_no_untranslated_text(script: str) -> None:
    """Page scripts show text only through `rolodex.t()` (one catalog served to the page)."""
    found = [m.group(2) for m in JS_TEXT.finditer((PACKAGE / script).read_text())]
    assert not [f for f in found if _reads_as_text(f)], found
