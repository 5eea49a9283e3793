"""The inbox's filters: a GET form, so every filtered view is a link (and works without JS)."""

from __future__ import annotations

import uuid

from django import forms

from events.models import EmailState

NO_PROJECT = "none"


class InboxFilterForm(forms.Form):
    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *EmailState.choices])
    # A code, not a choice among the projects: a poll of the rows validates it without reading them.
    project = forms.CharField(required=False, max_length=40, label="Project")
    sender = forms.CharField(required=False, max_length=320, label="Sender")
    q = forms.CharField(required=False, max_length=200, label="Search")

    def clean_project(self) -> str:
        value = str(self.cleaned_data["project"]).strip().lower()
        if value in ("", NO_PROJECT):
            return value
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return ""  # a malformed code is ignored, as the agenda ignores one

    def clean_sender(self) -> str:
        return str(self.cleaned_data["sender"]).strip().lower()

    def clean_q(self) -> str:
        return " ".join(str(self.cleaned_data["q"]).split())

    def values(self) -> dict[str, str]:
        """The valid filters; an unknown state or project is ignored rather than an error."""
        if self.is_valid():
            return {name: self.cleaned_data[name] for name in ("state", "project", "sender", "q")}
        return {
            name: "" if name in self.errors else str(self.cleaned_data.get(name, ""))
            for name in ("state", "project", "sender", "q")
        }
