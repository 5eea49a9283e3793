"""Forms of filing by hand: file, move or dismiss an email, and undo that."""

from __future__ import annotations

from typing import Any

from django import forms

from projects.models import Project

# Where the controls were shown: the answer to an htmx request is that page's row.
SHOWN_IN = (("unfiled", "Unfiled"), ("inbox", "Inbox"), ("email", "Email page"))


class FilingPlaceForm(forms.Form):
    """Which page asked, and where to go back to without JavaScript."""

    shown_in = forms.ChoiceField(choices=SHOWN_IN, required=False)
    next = forms.CharField(required=False, max_length=2000)

    def place(self) -> tuple[str, str]:
        data = getattr(self, "cleaned_data", {})
        return data.get("shown_in") or "email", data.get("next") or ""


class EmailFileForm(FilingPlaceForm):
    ACTIONS = (
        ("project", "File into a project"),
        ("new", "File into a new project"),
        ("not_project", "Not project mail"),
    )

    action = forms.ChoiceField(choices=ACTIONS)
    # Any project: a closed or merged one is refused by the service with its own message.
    project = forms.ModelChoiceField(
        queryset=Project.objects.only("pk", "code"),
        to_field_name="code",
        required=False,
        error_messages={"invalid_choice": "That project does not exist any more."},
    )
    name = forms.CharField(required=False, max_length=200)
    client = forms.CharField(required=False, max_length=200)
    client_email = forms.EmailField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "project" and not data.get("project") and "project" not in self.errors:
            self.add_error("project", "Choose a project.")
        return data

    def filing(self) -> dict[str, Any]:
        """The keyword arguments of events.filing.email_file."""
        data = self.cleaned_data
        if data["action"] == "not_project":
            return {"not_project_mail": True}
        if data["action"] == "new":
            return {
                "new_project": {
                    "name": data["name"].strip(),
                    "client": data["client"].strip(),
                    "client_email": data["client_email"],
                }
            }
        return {"project": data["project"]}

    def error_text(self) -> str:
        errors = [str(e) for field in self.errors.values() for e in field]
        return " ".join(errors) or "Choose where to file this email."


class FilingUndoForm(FilingPlaceForm):
    filing = forms.IntegerField(min_value=1)
