"""The one feature-gate table of R10: which plans have which feature."""

from __future__ import annotations

from enum import StrEnum

from babel.lists import format_list

from rolodex import i18n
from rolodex.errors import PlanRequired
from rolodex.i18n import N_, _


class Plan(StrEnum):
    """A workspace's commercial plan, from smallest to largest."""

    TEAM = "team"
    BUSINESS = "business"
    ENTERPRISE = "enterprise"


class Feature(StrEnum):
    """A capability that not every plan has."""

    VIP = "vip"
    CRM_INTEGRATION = "crm_integration"
    CRM_MANAGED_EDITING = "crm_managed_editing"
    CONTACT_ATTRIBUTE_EXPORTS = "contact_attribute_exports"
    AUTO_CLEAR = "auto_clear"
    WEBHOOKS = "webhooks"
    BOTS = "bots"


# English message ids; `feature_name()` gives the reader's language.
FEATURE_NAMES: dict[Feature, str] = {
    Feature.VIP: N_("VIP contacts"),
    Feature.CRM_INTEGRATION: N_("The CRM integration"),
    Feature.CRM_MANAGED_EDITING: N_("Editing CRM-managed contact attributes"),
    Feature.CONTACT_ATTRIBUTE_EXPORTS: N_("Contact attribute exports"),
    Feature.AUTO_CLEAR: N_("Automatic clearing of contact attributes"),
    Feature.WEBHOOKS: N_("Webhooks"),
    Feature.BOTS: N_("Virtual agents (bots)"),
}

# The gate table itself; anything not listed here is on every plan.
FEATURE_PLANS: dict[Feature, frozenset[Plan]] = {
    Feature.VIP: frozenset({Plan.ENTERPRISE}),
    Feature.CRM_INTEGRATION: frozenset({Plan.ENTERPRISE}),
    Feature.CRM_MANAGED_EDITING: frozenset({Plan.ENTERPRISE}),
    Feature.CONTACT_ATTRIBUTE_EXPORTS: frozenset({Plan.ENTERPRISE}),
    Feature.AUTO_CLEAR: frozenset({Plan.BUSINESS, Plan.ENTERPRISE}),
    Feature.WEBHOOKS: frozenset({Plan.BUSINESS, Plan.ENTERPRISE}),
    Feature.BOTS: frozenset({Plan.ENTERPRISE}),
}


def has_feature(plan: str, feature: Feature) -> bool:
    """Whether a plan includes a feature."""
    return plan in FEATURE_PLANS[feature]


def feature_name(feature: Feature) -> str:
    """A feature's name in the reader's language."""
    return i18n.translate(FEATURE_NAMES[feature])


def require_feature(plan: str, feature: Feature) -> None:
    """Refuse with 403 plan_required, naming the plan(s) that have the feature."""
    if has_feature(plan, feature):
        return
    plans = [p for p in Plan if p in FEATURE_PLANS[feature]]
    # Plan names are product names: the same in every language ("Business o Enterprise").
    names = format_list(
        [p.value.capitalize() for p in plans], style="or", locale=i18n.current_locale()
    )
    raise PlanRequired(
        _(
            "%(feature)s requires the %(plans)s plan; this workspace is on the %(plan)s plan.",
            feature=feature_name(feature),
            plans=names,
            plan=plan.capitalize(),
        ),
        extra={"feature": feature.value, "required_plans": [p.value for p in plans]},
    )
