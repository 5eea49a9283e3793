from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

from organizations.models import Role, SenderPolicy
from organizations.services import allowed_sender_validate


class AcceptInvitationForm(forms.Form):
    """Sets the password of a person who joins through an invitation (their email is proven by the link)."""

    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label="Password (again)", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            raise ValidationError("The two passwords differ.")
        if p1:
            from accounts.models import User

            password_validation.validate_password(p1, User(email=self.email, first_name=data.get("first_name", "")))
        return data


class SenderPolicyForm(forms.Form):
    sender_policy = forms.ChoiceField(choices=SenderPolicy.choices, widget=forms.RadioSelect)


class AllowedSenderForm(forms.Form):
    pattern = forms.CharField(
        max_length=254,
        label="Address or @domain",
        widget=forms.TextInput(attrs={"placeholder": "pm@client.com or @client.com"}),
    )

    def clean_pattern(self) -> str:
        return allowed_sender_validate(self.cleaned_data["pattern"])


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
