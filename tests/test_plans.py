"""The plan feature gates of R10."""

from __future__ import annotations

import pytest

from rolodex.errors import PlanRequired
from rolodex.plans import Feature, Plan, has_feature, require_feature


@pytest.mark.parametrize(
    "feature",
    [
        Feature.VIP,
        Feature.CRM_INTEGRATION,
        Feature.CRM_MANAGED_EDITING,
        Feature.CONTACT_ATTRIBUTE_EXPORTS,
    ],
)
def test_enterprise_features_are_refused_elsewhere_naming_the_plan(feature: Feature) -> None:
    assert has_feature(Plan.ENTERPRISE, feature)
    for plan in (Plan.TEAM, Plan.BUSINESS):
        with pytest.raises(PlanRequired) as refused:
            require_feature(plan, feature)
        problem = refused.value.to_problem()
        assert (problem["status"], problem["code"]) == (403, "plan_required")
        assert "Enterprise plan" in problem["detail"]
        assert problem["required_plans"] == ["enterprise"]


def test_auto_clear_is_on_business_and_enterprise() -> None:
    assert not has_feature(Plan.TEAM, Feature.AUTO_CLEAR)
    assert has_feature(Plan.BUSINESS, Feature.AUTO_CLEAR)
    with pytest.raises(PlanRequired, match="Business or Enterprise"):
        require_feature(Plan.TEAM, Feature.AUTO_CLEAR)
