"""The demo workspace that `rolodex demo` and `make run` create for a newcomer."""

from __future__ import annotations

from rolodex.auth.principals import Principal, Role, TokenKind
from rolodex.db import Database
from rolodex.users import service as users
from rolodex.users.schemas import TeamCreate, UserCreate
from rolodex.workspaces import repository, service
from rolodex.workspaces.plans import Plan

DEMO_NAME = "Rolodex Demo"
DEMO_PASSWORD = "rolodex-demo"  # noqa: S105 - printed for newcomers on purpose
DEMO_LOGINS = (
    ("admin", "admin@demo.rolodex.test", DEMO_PASSWORD),
    ("agent", "ana@demo.rolodex.test", DEMO_PASSWORD),
    ("agent", "ben@demo.rolodex.test", DEMO_PASSWORD),
)
_AGENT_NAMES = ("Ana Agent", "Ben Agent")


async def seed_demo(database: Database) -> bool:
    """Fill the demo workspace unless it exists; returns whether it was created."""
    async with database.transaction() as session:
        if await repository.find_by_name(session, DEMO_NAME) is not None:
            return False
        created = await service.create_workspace(
            session,
            name=DEMO_NAME,
            plan=Plan.ENTERPRISE,
            admin_email=DEMO_LOGINS[0][1],
            admin_password=DEMO_PASSWORD,
            admin_name="Alex Admin",
            default_phone_region="ES",
        )
        # Everything else goes through the same service calls an admin's requests use.
        admin = Principal(
            workspace_id=created.workspace_id,
            plan=Plan.ENTERPRISE.value,
            kind=TokenKind.USER,
            token_id="demo",  # noqa: S106 - not a credential
            user_id=created.admin_user_id,
            role=Role.ADMIN,
            name="Alex Admin",
        )
        agent_ids = []
        for (_, email, password), name in zip(DEMO_LOGINS[1:], _AGENT_NAMES, strict=True):
            user = await users.create_user(
                session,
                admin,
                UserCreate(email=email, name=name, role=Role.AGENT, password=password),
            )
            agent_ids.append(user.id)
        await users.create_team(session, admin, TeamCreate(name="Support", member_ids=agent_ids))
        await users.create_team(
            session, admin, TeamCreate(name="VIP desk", member_ids=agent_ids[:1])
        )
    return True
