"""The typed input boundary of the project pages."""

from __future__ import annotations

from typing import Any

from django import forms

from projects.models import Project, ProjectStatus


class ProjectFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *ProjectStatus.choices], label="Status")

    def values(self) -> tuple[str, str]:
        if not self.is_valid():
            return "", ""
        return self.cleaned_data["q"].strip(), self.cleaned_data["status"]


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=200)
    client_name = forms.CharField(max_length=200, required=False, label="Client")
    client_email = forms.EmailField(required=False, label="Client email")

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("A project needs a name.")
        return name


class ProjectEditForm(ProjectForm):
    status = forms.ChoiceField(choices=ProjectStatus.choices)


class ProjectStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ProjectStatus.choices)


class ProjectMergeForm(forms.Form):
    """Merge the current project INTO the chosen one. Nothing is chosen for the person (the first
    project used to be preselected, one click from a merge); `confirm` comes only from the page
    that shows what would move."""

    target = forms.ModelChoiceField(
        queryset=Project.objects.none(), to_field_name="code", label="Merge into", empty_label="Choose a project…"
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, source: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["target"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Project.objects.filter(merged_into__isnull=True).exclude(pk=source.pk).order_by("name")


class FeedForm(forms.Form):
    action = forms.ChoiceField(choices=[("rotate", "Create or regenerate"), ("revoke", "Revoke")])


class SignalForm(forms.Form):
    """One thing Projectr learned about the project (projects.ProjectSignal), to forget."""

    signal = forms.IntegerField(min_value=1)
