"""The one feature-gate table of R10: which plans have which feature."""

from __future__ import annotations

from enum import StrEnum

from rolodex.errors import PlanRequired


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


FEATURE_NAMES: dict[Feature, str] = {
    Feature.VIP: "VIP contacts",
    Feature.CRM_INTEGRATION: "The CRM integration",
    Feature.CRM_MANAGED_EDITING: "Editing CRM-managed contact attributes",
    Feature.CONTACT_ATTRIBUTE_EXPORTS: "Contact attribute exports",
    Feature.AUTO_CLEAR: "Automatic clearing of contact attributes",
    Feature.WEBHOOKS: "Webhooks",
}

# The gate table itself; anything not listed here is on every plan.
FEATURE_PLANS: dict[Feature, frozenset[Plan]] = {
    Feature.VIP: frozenset({Plan.ENTERPRISE}),
    Feature.CRM_INTEGRATION: frozenset({Plan.ENTERPRISE}),
    Feature.CRM_MANAGED_EDITING: frozenset({Plan.ENTERPRISE}),
    Feature.CONTACT_ATTRIBUTE_EXPORTS: frozenset({Plan.ENTERPRISE}),
    Feature.AUTO_CLEAR: frozenset({Plan.BUSINESS, Plan.ENTERPRISE}),
    Feature.WEBHOOKS: frozenset({Plan.BUSINESS, Plan.ENTERPRISE}),
}


def has_feature(plan: str, feature: Feature) -> bool:
    """Whether a plan includes a feature."""
    return plan in FEATURE_PLANS[feature]


def require_feature(plan: str, feature: Feature) -> None:
    """Refuse with 403 plan_required, naming the plan(s) that have the feature."""
    if has_feature(plan, feature):
        return
    plans = [p for p in Plan if p in FEATURE_PLANS[feature]]
    names = " or ".join(p.value.capitalize() for p in plans)
    raise PlanRequired(
        f"{FEATURE_NAMES[feature]} requires the {names} plan; "
        f"this workspace is on the {plan.capitalize()} plan.",
        extra={"feature": feature.value, "required_plans": [p.value for p in plans]},
    )
