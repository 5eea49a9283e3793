from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import stripe
from django.urls import reverse
from django.utils import timezone
from djstripe.models import Customer, Invoice, Subscription

from billing.models import LimitNotice
from organizations.models import AIBudgetAction, BillingStatus, Organization
from tests.billing.conftest import FakeStripe, current_shape
from tests.billing.factories import ledger, subscription

OVERVIEW = "/billing/"


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("admin", 200), ("member", 403), ("viewer", 403)])
def test_the_billing_page_is_for_owners_and_admins(world: Any, client_as: Any, role: str, status: int) -> None:
    assert client_as(world.user(role)).get(OVERVIEW).status_code == status


def test_outsiders_get_404(world: Any, client_as: Any) -> None:
    assert client_as(world.outsider).get(OVERVIEW).status_code == 404


def test_anonymous_users_are_sent_to_sign_in(workspace_client: Any) -> None:
    response = workspace_client.get(OVERVIEW)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_shows_plan_usage_and_says_payments_are_not_configured(
    world: Any, client_as: Any, org: Organization
) -> None:
    ledger(org, emails=12)

    body = client_as(world.admin).get(OVERVIEW).content.decode()

    assert "Starter plan" in body
    assert "12 of 500" in body
    assert "Online payments are not configured" in body
    assert reverse("billing:checkout", args=["professional"]) not in body


def test_checkout_without_stripe_explains_and_changes_nothing(world: Any, client_as: Any, org: Organization) -> None:
    response = client_as(world.admin).post(reverse("billing:checkout", args=["professional"]), follow=True)

    assert "Online payments are not configured" in response.content.decode()
    org.refresh_from_db()
    assert org.plan == "starter"


def test_the_portal_without_stripe_explains(world: Any, client_as: Any) -> None:
    response = client_as(world.owner).post(reverse("billing:portal"), follow=True)

    assert response.status_code == 200
    assert "Online payments are not configured" in response.content.decode()


def test_checkout_redirects_to_stripe_with_the_organization_attached(
    world: Any, client_as: Any, org: Organization, fake_stripe: FakeStripe
) -> None:
    body = client_as(world.admin).get(OVERVIEW).content.decode()
    assert reverse("billing:checkout", args=["professional"]) in body

    response = client_as(world.admin).post(reverse("billing:checkout", args=["professional"]))

    assert response.status_code == 302
    assert response["Location"] == "https://checkout.stripe.test/s"
    (customer,) = fake_stripe.posts("/v1/customers")
    assert customer["metadata[djstripe_subscriber]"] == [str(org.pk)]
    (session,) = fake_stripe.posts("/v1/checkout/sessions")
    assert session["client_reference_id"] == [str(org.pk)]
    assert session["line_items[0][price]"] == ["price_professional_test"]
    assert session["subscription_data[metadata][org_id]"] == [str(org.pk)]


def test_the_portal_needs_a_customer_then_redirects(
    world: Any, client_as: Any, org: Organization, fake_stripe: FakeStripe
) -> None:
    client = client_as(world.admin)
    response = client.post(reverse("billing:portal"), follow=True)
    assert "no subscription to manage yet" in response.content.decode()

    client.post(reverse("billing:checkout", args=["starter"]))
    response = client.post(reverse("billing:portal"))

    assert response["Location"] == "https://billing.stripe.test/p"


def test_members_cannot_start_a_checkout(world: Any, client_as: Any, fake_stripe: FakeStripe) -> None:
    assert client_as(world.member).post(reverse("billing:checkout", args=["professional"])).status_code == 403
    assert fake_stripe.requests == []


def test_checkout_accepts_only_post(world: Any, client_as: Any) -> None:
    assert client_as(world.admin).get(reverse("billing:checkout", args=["professional"])).status_code == 405


def test_admins_choose_what_happens_when_the_ai_budget_is_used_up(
    world: Any, client_as: Any, org: Organization
) -> None:
    response = client_as(world.admin).post(
        reverse("billing:settings"), {"ai_budget_action": "rules", "overage_enabled": "on"}
    )

    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.ai_budget_action, org.overage_enabled) == (AIBudgetAction.RULES, True)


def test_an_invalid_choice_changes_nothing(world: Any, client_as: Any, org: Organization) -> None:
    client_as(world.admin).post(reverse("billing:settings"), {"ai_budget_action": "explode"})

    org.refresh_from_db()
    assert org.ai_budget_action == AIBudgetAction.HOLD


def test_viewers_cannot_change_billing_settings(world: Any, client_as: Any, org: Organization) -> None:
    assert client_as(world.viewer).post(reverse("billing:settings"), {"ai_budget_action": "rules"}).status_code == 403


def test_the_page_shows_a_past_due_banner_to_everyone_and_the_link_to_admins(
    world: Any, client_as: Any, org: Organization
) -> None:
    Organization.objects.filter(pk=org.pk).update(billing_status=BillingStatus.PAST_DUE)

    member_page = client_as(world.member).get("/usage/").content.decode()
    admin_page = client_as(world.admin).get("/usage/").content.decode()

    assert "The last payment failed" in member_page
    assert 'href="/billing/">Billing</a></div>' not in member_page
    assert 'href="/billing/">Billing</a></div>' in admin_page


def test_the_limit_banner_appears_at_80_percent(world: Any, client_as: Any, org: Organization) -> None:
    ledger(org, emails=400)

    body = client_as(world.viewer).get("/usage/").content.decode()

    assert "has used 400 of 500 emails this period" in body
    assert not LimitNotice.objects.exists()  # banners only read; notices come from processing


def test_checkout_keeps_the_rest_of_the_trial_and_adds_the_overage_price(
    world: Any, client_as: Any, org: Organization, fake_stripe: FakeStripe, settings: Any
) -> None:
    settings.STRIPE_PRICE_OVERAGE = "price_overage_test"
    trial_end = timezone.now() + timedelta(days=10)
    Organization.objects.filter(pk=org.pk).update(trial_ends_at=trial_end)

    client_as(world.owner).post(reverse("billing:checkout", args=["starter"]))

    (session,) = fake_stripe.posts("/v1/checkout/sessions")
    assert session["subscription_data[trial_end]"] == [str(int(trial_end.timestamp()))]
    assert session["line_items[1][price]"] == ["price_overage_test"]
    assert "line_items[1][quantity]" not in session


def test_an_organization_that_pays_upgrades_in_the_portal_not_a_second_checkout(
    world: Any, client_as: Any, org: Organization, fake_stripe: FakeStripe
) -> None:
    customer, _ = Customer.get_or_create(subscriber=org, livemode=False)
    sub = fake_stripe.add(subscription(org, customer=customer.id))
    Subscription.sync_from_stripe_data(stripe.convert_to_stripe_object(current_shape(sub)))

    response = client_as(world.admin).post(reverse("billing:checkout", args=["professional"]))

    assert response["Location"] == "https://billing.stripe.test/p"
    (portal,) = fake_stripe.posts("/v1/billing_portal/sessions")
    assert portal["flow_data[subscription_update][subscription]"] == ["sub_test1"]
    assert fake_stripe.posts("/v1/checkout/sessions") == []


def test_it_lists_only_this_organizations_invoices(
    world: Any, client_as: Any, org: Organization, other_org: Organization, fake_stripe: FakeStripe
) -> None:
    ours, _ = Customer.get_or_create(subscriber=org, livemode=False)
    theirs, _ = Customer.get_or_create(subscriber=other_org, livemode=False)
    Invoice.objects.create(
        id="in_ours",
        customer=ours,
        livemode=False,
        stripe_data={"number": "OURS-0001", "total": 4900, "status": "paid"},
    )
    Invoice.objects.create(
        id="in_theirs", customer=theirs, livemode=False, stripe_data={"number": "THEIRS-0001", "total": 14900}
    )

    body = client_as(world.owner).get(OVERVIEW).content.decode()

    assert "OURS-0001" in body
    assert "49.00 USD" in body
    assert "THEIRS-0001" not in body


# --- one account of the plan ----------------------------------------------------------------------


def test_a_plan_without_a_subscription_is_not_called_current(
    world: Any, client_as: Any, org: Organization, fake_stripe: FakeStripe
) -> None:
    Organization.objects.filter(pk=org.pk).update(
        plan="professional", billing_status=BillingStatus.NONE, trial_ends_at=timezone.now() + timedelta(days=9)
    )

    body = client_as(world.admin).get(OVERVIEW).content.decode()

    assert "Professional plan" in body
    assert "Free trial until" in body
    assert "Your plan · free trial" in body
    assert "<em>current</em>" not in body
    assert "No subscription</strong>" not in body
    # Still on a trial: subscribing to the same plan is offered.
    assert reverse("billing:checkout", args=["professional"]) in body


def test_an_active_subscription_reads_active_everywhere(
    world: Any, client_as: Any, org: Organization, fake_stripe: FakeStripe
) -> None:
    end = timezone.now() + timedelta(days=20)
    Organization.objects.filter(pk=org.pk).update(
        plan="professional", billing_status=BillingStatus.ACTIVE, current_period_end=end
    )

    body = client_as(world.admin).get(OVERVIEW).content.decode()

    assert "Active subscription" in body
    assert "Renews on" in body
    assert "Your plan</em>" in body
    assert reverse("billing:checkout", args=["professional"]) not in body


def test_the_current_plans_card_shows_the_limits_staff_set_for_the_workspace(
    world: Any, client_as: Any, org: Organization
) -> None:
    Organization.objects.filter(pk=org.pk).update(custom_email_limit=5000)

    body = client_as(world.admin).get(OVERVIEW).content.decode()

    assert "of 5,000" in body
    assert "5,000 emails / month" in body
    assert "500 emails / month" not in body  # the Starter card is the current plan's; its 500 is overridden


def test_enterprise_contact_is_a_mailto_link_from_the_setting(
    world: Any, client_as: Any, org: Organization, settings: Any
) -> None:
    settings.PROJECTR_SALES_EMAIL = "deals@projectr.test"

    body = client_as(world.admin).get(OVERVIEW).content.decode()

    assert 'href="mailto:deals@projectr.test?subject=Projectr%20Enterprise%20for%20Test%20Org"' in body
    assert "Contact us about Enterprise" in body


def test_without_a_sales_address_enterprise_has_no_dead_link(
    world: Any, client_as: Any, org: Organization, settings: Any
) -> None:
    settings.PROJECTR_SALES_EMAIL = ""

    body = client_as(world.admin).get(OVERVIEW).content.decode()

    assert "mailto:" not in body
    assert "Ask Projectr staff about Enterprise" in body


def test_the_overage_checkbox_sits_inside_its_label(world: Any, client_as: Any) -> None:
    body = client_as(world.admin).get(OVERVIEW).content.decode()

    assert (
        '<label for="id_overage_enabled" class="checkbox-label"><input type="checkbox" name="overage_enabled"' in body
    )
    assert "pay for the cost above the budget (overage)</label>" in body
