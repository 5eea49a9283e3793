from __future__ import annotations

from django import forms

from organizations.models import AIBudgetAction


class BillingSettingsForm(forms.Form):
    ai_budget_action = forms.ChoiceField(
        choices=AIBudgetAction.choices, widget=forms.RadioSelect, label="When the AI budget is used up"
    )
    overage_enabled = forms.BooleanField(
        required=False, label="Instead, keep using AI and pay for the cost above the budget (overage)"
    )
