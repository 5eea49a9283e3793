from __future__ import annotations

from typing import Any

from django import forms

from accounts.zones import is_time_zone, zone_choices


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        help_text="Pages, the daily digest and your CSV exports show times in this zone.",
    )

    def __init__(self, *args: Any, current: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("time_zone", current or None)
        choices = zone_choices()
        # A browser may have sent an alias we do not list (Asia/Calcutta): keep it choosable.
        if current and all(current != value for value, _ in choices):
            choices = [(current, current.replace("_", " ")), *choices]
        field = self.fields["time_zone"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Choose your time zone"), *choices]


class DetectedTimeZoneForm(forms.Form):
    """What static/js/timezone.js posts: Intl.DateTimeFormat().resolvedOptions().timeZone."""

    time_zone = forms.CharField(max_length=64)

    def clean_time_zone(self) -> str:
        name: str = self.cleaned_data["time_zone"].strip()
        # Browsers may answer a legacy alias (Asia/Calcutta); zoneinfo knows those as well.
        if not is_time_zone(name):
            raise forms.ValidationError("Not a time zone name we know.")
        return name
