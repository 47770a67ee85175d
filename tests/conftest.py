"""Test fixtures: every database test runs on SQLite and, when configured, on PostgreSQL.

ROLODEX_TEST_POSTGRES_URL names the PostgreSQL database (its tables are dropped);
ROLODEX_REQUIRE_POSTGRES=1 turns a missing PostgreSQL into a failure instead of a skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import support.jobs  # noqa: F401  (registers the test job kinds in this process)
from rolodex import i18n, subscriptions
from rolodex.app import create_app
from rolodex.config import Settings
from rolodex.db import Database, open_database, sync_url
from rolodex.kit.migrate import upgrade
from rolodex.models import Base

# Services called straight from tests (builders) need the domains' subscribers, as every
# process that serves or works has them.
subscriptions.register_all()

CHROMIUM = os.environ.get("ROLODEX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# ROLODEX_REQUIRE_BROWSER=1 turns a missing Chromium or Playwright into a failure, not a skip.
REQUIRE_BROWSER = os.environ.get("ROLODEX_REQUIRE_BROWSER") == "1"
REQUIRE_POSTGRES = os.environ.get("ROLODEX_REQUIRE_POSTGRES") == "1"
TESTS_DIR = Path(__file__).parent


def _worker_url(url: str) -> str:
    # Under pytest-xdist each worker process gets a database of its own (<name>_gw0, …),
    # created next to the configured one: they empty and truncate it independently.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    return (
        make_url(url)
        .set(database=f"{make_url(url).database}_{worker}")
        .render_as_string(hide_password=False)
    )


POSTGRES_URL = _worker_url(os.environ.get("ROLODEX_TEST_POSTGRES_URL", ""))


def _postgres_available() -> bool:
    if not POSTGRES_URL:
        return False
    try:
        _create_worker_database()
        engine = create_engine(sync_url(POSTGRES_URL))
        with engine.connect():
            pass
        engine.dispose()
    except Exception:
        return False
    return True


def _create_worker_database() -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    url = make_url(sync_url(POSTGRES_URL))
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        ).first()
        if found is None:
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    engine.dispose()


@pytest.fixture(autouse=True)
def _english_in_utc() -> None:
    """Each test starts in the default language and zone: a test that switched them in this
    thread's context (directly, or through a service) must not decide the next one's."""
    i18n.use(i18n.DEFAULT_LOCALE, i18n.DEFAULT_TIME_ZONE)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "rolodex.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL test database, emptied and migrated once per session."""
    if not _postgres_available():
        if REQUIRE_POSTGRES:
            pytest.fail(
                "ROLODEX_REQUIRE_POSTGRES=1 but PostgreSQL does not answer at "
                f"ROLODEX_TEST_POSTGRES_URL={POSTGRES_URL!r}"
            )
        pytest.skip("PostgreSQL not configured (set ROLODEX_TEST_POSTGRES_URL)")
    engine = create_engine(sync_url(POSTGRES_URL))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(POSTGRES_URL)
    return POSTGRES_URL


def _truncate_postgres(url: str) -> None:
    engine = create_engine(sync_url(url))
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """An empty, migrated database of each kind, isolated per test."""
    if request.param == "sqlite":
        path = tmp_path / "rolodex.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    yield url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings for an app under test: its own data dir, no embedded worker."""
    return Settings(
        database_url=db_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        run_worker=False,
        job_modules=["support.jobs"],
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    """The database the test's app uses, for builders and assertions."""
    database = open_database(settings.resolved_database_url())
    yield database
    await database.dispose()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app, with its lifespan running."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium per test.

    Playwright's sync API keeps an event loop running in this thread while it is
    open, which would break the async tests that run after it; so it never outlives a test.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if REQUIRE_BROWSER:
            pytest.fail("ROLODEX_REQUIRE_BROWSER=1 but Playwright is not installed")
        pytest.skip("Playwright is not installed")
    if not Path(CHROMIUM).exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"ROLODEX_REQUIRE_BROWSER=1 but there is no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page (its own cookies) per test, 1280 px wide."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()
