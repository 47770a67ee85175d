"""The `rolodex` command line: serve, worker, db, workspace, user, token, jobs, demo."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from rolodex import subscriptions
from rolodex.config import get_settings
from rolodex.db import Database, open_database
from rolodex.jobs.registry import load_job_modules

T = TypeVar("T")

app = typer.Typer(
    help="Rolodex: contacts for multi-channel customer-service inboxes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
jobs_app = typer.Typer(help="Background jobs.", no_args_is_help=True)
export_app = typer.Typer(
    help="Exports (the same code path as the web page's).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(workspace_app, name="workspace")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(jobs_app, name="jobs")
app.add_typer(export_app, name="export")

console = Console()
err_console = Console(stderr=True)


def _run(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run async work against the configured database, then close it."""

    # Any command may enqueue jobs (the demo does): their kinds must be known here.
    load_job_modules(get_settings().job_modules)
    subscriptions.register_all()

    async def main() -> T:
        database = open_database(get_settings().resolved_database_url())
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(main())


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def _as_utc(value: str | None) -> str | None:
    """An ISO 8601 time given without a zone, read as UTC; anything else left to the schema."""
    from datetime import UTC, datetime

    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value  # the export schema names the option and says why
    return parsed.replace(tzinfo=UTC).isoformat() if parsed.tzinfo is None else value


def _emit(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(data))
    else:
        for key, value in data.items():
            console.print(f"[bold]{key}[/bold]: {value}")


def _migrate() -> None:
    from rolodex.kit.migrate import upgrade

    upgrade(get_settings().resolved_database_url())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending database migrations."""
    _migrate()
    console.print("database is up to date")


def _url(host: str, port: int) -> str:
    """The address a person opens for a listening socket (an any-address host means this one)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8000,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Do not run jobs here.")] = False,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes (more than 1: PostgreSQL and ROLODEX_SECRET_KEY required).",
        ),
    ] = 1,
) -> None:
    """Apply pending migrations, then serve the API, the pages and the embedded worker."""
    import uvicorn

    from rolodex.app import create_app

    settings = get_settings()
    if workers > 1:
        _check_workers(workers)
    _migrate()
    if no_worker:
        settings.run_worker = False
    if workers > 1:
        _serve_processes(workers, host, port, no_worker=no_worker, access_log=access_log)
        return
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level,
        access_log=access_log,
    )
    sock = _listen(config, host)
    uvicorn.Server(config).run(sockets=[sock])


def _listen(config: Any, host: str, processes: str = "") -> socket.socket:
    """Bind and listen, then say where (and where to log in to the demo)."""
    from rolodex.demo import demo_exists

    # Listen first, then say where: the address printed is the one being served (port 0 too),
    # and a port already in use fails here, before anything is printed.
    sock: socket.socket = config.bind_socket()
    # Listening at once: a client that follows the printed address before the app has started
    # waits in the backlog instead of being refused (uvicorn listens only once it has started).
    sock.listen(config.backlog)
    url = _url(host, sock.getsockname()[1])
    console.print(f"Rolodex serving on {url}{processes}  (API docs: {url}/docs)", soft_wrap=True)
    if _run(demo_exists):
        console.print(f"Demo workspace: log in at {url}/login", soft_wrap=True)
    return sock


def _check_workers(workers: int) -> None:
    """Refuse several processes where they would not share state (exit 2, before any work)."""
    from rolodex.db import is_sqlite

    settings = get_settings()
    if is_sqlite(settings.resolved_database_url()):
        err_console.print(
            f"[red]error:[/red] --workers {workers} needs PostgreSQL (ROLODEX_DATABASE_URL="
            "postgresql://…): the embedded SQLite database serves one process. "
            "Use --workers 1 with SQLite.",
            soft_wrap=True,
        )
        raise typer.Exit(code=2)
    if not settings.secret_key:
        err_console.print(
            f"[red]error:[/red] --workers {workers} needs ROLODEX_SECRET_KEY set: sessions and "
            "stored secrets must be read with one key by every process (a generated key "
            "would differ between machines and is never shared).",
            soft_wrap=True,
        )
        raise typer.Exit(code=2)


def _serve_processes(
    workers: int, host: str, port: int, *, no_worker: bool, access_log: bool
) -> None:
    """Serve with uvicorn's multi-process supervisor: each process builds its app from the env."""
    import os

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    if no_worker:
        os.environ["ROLODEX_RUN_WORKER"] = "0"  # read by create_app in every process
    # One of the processes runs the jobs (the one holding the worker lock), not every one.
    os.environ["ROLODEX_WORKER_ELECTION"] = "1"
    settings = get_settings()
    config = uvicorn.Config(
        "rolodex.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        access_log=access_log,
    )
    sock = _listen(config, host, f" with {workers} processes")
    Multiprocess(config, sockets=[sock]).run()


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Jobs run at once.")] = 4,
) -> None:
    """Run background jobs in this process until stopped (SIGINT/SIGTERM)."""
    from rolodex.worker import Worker

    settings = get_settings()
    load_job_modules(settings.job_modules)
    subscriptions.register_all()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )

    async def work(database: Database) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await Worker(database, settings, concurrency=concurrency).run_forever(stop)

    _run(work)


@workspace_app.command("create")
def workspace_create(
    name: Annotated[str, typer.Option(help="Workspace name.")],
    plan: Annotated[str, typer.Option(help="team, business or enterprise.")],
    admin_email: Annotated[str, typer.Option(help="The first admin's email.")],
    admin_password: Annotated[str, typer.Option(help="The first admin's password.")],
    admin_name: Annotated[str, typer.Option(help="The first admin's name.")] = "Admin",
    phone_region: Annotated[str, typer.Option(help="Default phone region (ISO code).")] = "US",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a workspace with its first admin; prints the admin's API token once."""
    from pydantic import ValidationError

    from rolodex.errors import AppError
    from rolodex.plans import Plan
    from rolodex.users.schemas import UserCreate
    from rolodex.workspaces import service

    try:
        plan_value = Plan(plan)
        UserCreate(email=admin_email, name=admin_name, password=admin_password)
    except ValueError as exc:
        detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise _fail(f"invalid input: {detail}") from exc
    _migrate()

    async def work(database: Database) -> dict[str, Any]:
        async with database.transaction() as session:
            created = await service.create_workspace(
                session,
                name=name,
                plan=plan_value,
                admin_email=admin_email,
                admin_password=admin_password,
                admin_name=admin_name,
                default_phone_region=phone_region.upper(),
            )
        return {
            "workspace_id": created.workspace_id,
            "admin_user_id": created.admin_user_id,
            "token": created.token,
        }

    try:
        _emit(_run(work), as_json)
    except AppError as exc:
        raise _fail(exc.detail) from exc


@user_app.command("create")
def user_create(
    workspace: Annotated[str, typer.Option(help="Workspace id.")],
    email: Annotated[str, typer.Option()],
    password: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()] = "",
    role: Annotated[str, typer.Option(help="admin or agent.")] = "agent",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add a user to a workspace."""
    from pydantic import ValidationError

    from rolodex.errors import AppError
    from rolodex.users import service
    from rolodex.users.schemas import UserCreate
    from rolodex.workspaces import repository

    try:
        data = UserCreate.model_validate(
            {
                "email": email,
                "name": name or email.split("@")[0],
                "role": role,
                "password": password,
            }
        )
    except ValidationError as exc:
        raise _fail(
            f"invalid input: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}"
        ) from exc

    async def work(database: Database) -> dict[str, Any]:
        async with database.transaction() as session:
            if await repository.get(session, workspace) is None:
                raise _fail(f"no workspace {workspace}")
            user = await service.insert_user(session, workspace, data)
        return {"user_id": user.id, "email": user.email, "role": user.role}

    try:
        _emit(_run(work), as_json)
    except AppError as exc:
        raise _fail(exc.detail) from exc


@token_app.command("create")
def token_create(
    workspace: Annotated[str, typer.Option(help="Workspace id.")],
    kind: Annotated[str, typer.Option(help="user, bot or crm.")] = "user",
    user: Annotated[str | None, typer.Option(help="User id (kind user).")] = None,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an API token for a user or an integration (printed once)."""
    from rolodex.auth import service
    from rolodex.auth.principals import TokenKind
    from rolodex.users import repository as users
    from rolodex.workspaces import repository

    if kind not in {"user", "bot", "crm"}:
        raise _fail("kind must be user, bot or crm")
    if (kind == "user") != (user is not None):
        raise _fail("--user is required for kind user, and only for it")

    async def work(database: Database) -> dict[str, Any]:
        async with database.transaction() as session:
            if await repository.get(session, workspace) is None:
                raise _fail(f"no workspace {workspace}")
            if user is not None and await users.get_user(session, workspace, user) is None:
                raise _fail(f"no user {user} in workspace {workspace}")
            row, token = await service.issue_token(
                session, workspace_id=workspace, kind=TokenKind(kind), user_id=user, name=name
            )
        return {"token_id": row.id, "kind": kind, "token": token}

    _emit(_run(work), as_json)


@jobs_app.command("list")
def jobs_list(
    failed: Annotated[bool, typer.Option("--failed", help="Only failed jobs.")] = False,
    status: Annotated[str | None, typer.Option(help="Only jobs of this status.")] = None,
    workspace: Annotated[str | None, typer.Option(help="Only this workspace.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List background jobs, newest first."""
    from rolodex.jobs import service

    wanted = "failed" if failed else status

    async def work(database: Database) -> list[dict[str, Any]]:
        async with database.reader() as session:
            rows, _ = await service.list_jobs(
                session, workspace_id=workspace, status=wanted, cursor=None, limit=limit
            )
        return [
            {
                "id": r.id,
                "kind": r.kind,
                "status": r.status,
                "attempts": r.attempts,
                "workspace_id": r.workspace_id,
                "run_at": r.run_at.isoformat(),
                "last_error": r.last_error,
            }
            for r in rows
        ]

    rows = _run(work)
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("id", "kind", "status", "attempts", "run at", "last error")
    for r in rows:
        table.add_row(
            r["id"],
            r["kind"],
            r["status"],
            str(r["attempts"]),
            r["run_at"],
            (r["last_error"] or "")[-80:],
        )
    console.print(table if rows else "no jobs")


@export_app.command("contact-attributes")
def export_contact_attributes(
    workspace: Annotated[str, typer.Option(help="The workspace id.")],
    out: Annotated[Path, typer.Option(help="The CSV file to write.")],
    channel_id: Annotated[
        list[str] | None, typer.Option(help="Only this channel (repeat).")
    ] = None,
    medium: Annotated[list[str] | None, typer.Option(help="Only this platform (repeat).")] = None,
    vip: Annotated[
        bool | None, typer.Option("--vip/--not-vip", help="Only VIPs / non-VIPs.")
    ] = None,
    group: Annotated[str | None, typer.Option(help="Only this contact group's members.")] = None,
    updated_from: Annotated[
        str | None,
        typer.Option(help="Updated at or after (ISO 8601; a time without a zone is UTC)."),
    ] = None,
    updated_to: Annotated[
        str | None,
        typer.Option(help="Updated before (ISO 8601; a time without a zone is UTC)."),
    ] = None,
    attributes: Annotated[
        str | None, typer.Option(help="Comma-separated keys (default: all, in order).")
    ] = None,
) -> None:
    """Export a workspace's contact attributes to a CSV file, with a progress bar."""
    from pydantic import ValidationError
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from rolodex.errors import AppError
    from rolodex.exports import writer
    from rolodex.exports.schemas import ExportFilters
    from rolodex.models import Workspace
    from rolodex.plans import Feature, has_feature

    try:
        filters = ExportFilters.model_validate(
            {
                "channel_ids": channel_id or None,
                "mediums": medium or None,
                "vip": vip,
                "group": group,
                "updated_from": _as_utc(updated_from),
                "updated_to": _as_utc(updated_to),
            }
        )
    except ValidationError as exc:
        raise _fail(str(exc)) from None
    keys = [k.strip() for k in attributes.split(",") if k.strip()] if attributes else None

    async def work(database: Database) -> int:
        async with database.reader() as session:
            found = await session.get(Workspace, workspace)
            if found is None:
                raise _fail(f"no workspace {workspace}")
            if not has_feature(found.plan, Feature.CONTACT_ATTRIBUTE_EXPORTS):
                raise _fail("contact-attribute exports need the enterprise plan")
            plan = await writer.plan(session, workspace, filters, keys)
        partial = out.with_name(out.name + ".part")
        columns = (BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with (
            Progress(*columns, console=err_console) as bar,
            writer.open_private(partial) as handle,
        ):
            task = bar.add_task("contacts", total=None)

            async def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            rows = await writer.write(database, plan, handle, progress)
        partial.replace(out)
        return rows

    try:
        rows = _run(work)
    except AppError as exc:
        details = "".join(f"\n  {e['field']}: {e['message']}" for e in exc.errors)
        raise _fail(exc.detail + details) from None
    err_console.print(f"{rows:,} contacts written to {out}")


@app.command()
def demo() -> None:
    """Create (once) a demo workspace a newcomer can log into, and print the logins."""
    from rolodex.demo import DEMO_LOGINS, how_to_play, seed_demo

    _migrate()
    settings = get_settings()
    created = _run(lambda database: seed_demo(database, settings))
    console.print("Demo workspace " + ("created." if created else "already there."))
    # Where to log in is printed by `rolodex serve` once it listens (make run starts it): only
    # the server knows the address it really serves.
    console.print("Logins (`rolodex serve` prints where to log in; `make run` starts it):")
    for role, email, password in DEMO_LOGINS:
        console.print(f"  {role:<6} {email}  /  {password}")
    console.print(
        f"Its CRM is the reference CRM at {settings.demo_crm_url} "
        "(`make run` starts it: examples/reference_crm)."
    )
    for line in how_to_play(settings):
        console.print(line, soft_wrap=True)


def main() -> None:
    """Entry point of the `rolodex` script."""
    app()
