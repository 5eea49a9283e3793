"""Forms of the timeline: the filter bar and the event editor."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.zones import zone_label
from events.models import EventKind
from events.selectors import WHEN_CHOICES, TimelineFilter
from projects.models import Project

# <input type="date"> and <input type="time"> are drawn in the browser's own locale but always
# read and submit ISO: their value is written so, whatever the locale formats say (the fields
# parse ISO first, Django's English DATE_INPUT_FORMATS and TIME_INPUT_FORMATS).
ISO_DATE = "%Y-%m-%d"
ISO_TIME = "%H:%M"


class TimelineFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, choices=[("", "All kinds"), *EventKind.choices])
    when = forms.ChoiceField(required=False, choices=WHEN_CHOICES)
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(format=ISO_DATE, attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(format=ISO_DATE, attrs={"type": "date"})
    )
    q = forms.CharField(required=False, max_length=200, label="Search")

    def to_filter(self) -> TimelineFilter:
        """The valid part of the filters; an invalid value is ignored rather than failing the page."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        kind = data.get("kind") or ""
        return TimelineFilter(
            kinds=(kind,) if kind else (),
            when=data.get("when") or "all",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            q=(data.get("q") or "").strip(),
        )


class PeopleField(forms.CharField):
    """People as one comma-separated line."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [p.strip() for p in text.split(",") if p.strip()][:20]


class EventForm(forms.Form):
    kind = forms.ChoiceField(choices=EventKind.choices)
    title = forms.CharField(max_length=300)
    date = forms.DateField(required=False, widget=forms.DateInput(format=ISO_DATE, attrs={"type": "date"}))
    time = forms.TimeField(required=False, widget=forms.TimeInput(format=ISO_TIME, attrs={"type": "time"}))
    people = PeopleField(required=False, max_length=1000, help_text="Comma-separated")
    amount = forms.DecimalField(required=False, max_digits=14, decimal_places=2)
    currency = forms.CharField(required=False, max_length=3)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)

    def __init__(self, *args: Any, zone: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An event's time is in the zone its email gave (Event.timezone), not the editor's own.
        if zone:
            self.fields["time"].label = f"Time ({zone_label(zone)})"

    def clean_title(self) -> str:
        title: str = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("An event needs a title.")
        return title

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("time") and not data.get("date"):
            self.add_error("time", "A time needs a date.")
        return data


class EventMoveForm(forms.Form):
    project = forms.ModelChoiceField(
        queryset=Project.objects.none(), to_field_name="code", label="Move to", empty_label=None
    )

    def __init__(self, *args: Any, current: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["project"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Project.objects.filter(merged_into__isnull=True).exclude(pk=current.pk).order_by("name")
