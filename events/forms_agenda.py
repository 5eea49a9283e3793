"""The agenda's filter bar."""

from __future__ import annotations

from django import forms

from events.models import EventKind
from events.selectors_agenda import AgendaFilter

PERSON_CHOICES = (("", "Everyone"), ("mine", "Mine"))


class AgendaFilterForm(forms.Form):
    project = forms.UUIDField(required=False)  # a project's code; the select lists the open ones
    kind = forms.ChoiceField(required=False, choices=[("", "All kinds"), *EventKind.choices])
    person = forms.ChoiceField(required=False, choices=PERSON_CHOICES)

    def to_filter(self) -> AgendaFilter:
        """The valid part of the filters; an invalid value is ignored rather than failing the page."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return AgendaFilter(project=data.get("project"), kind=data.get("kind") or "", mine=data.get("person") == "mine")
