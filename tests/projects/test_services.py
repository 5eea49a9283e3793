import pytest

from projects.models import Project, ProjectAlias, ProjectSignal, ProjectStatus
from projects.services import (
    ProjectError,
    ProjectLimitError,
    project_create,
    project_merge,
    project_signal_remove,
    project_update,
)
from tests.factories import EmailFactory, EventFactory, ProjectFactory


def test_it_gives_new_projects_unique_slugs(world):
    first = project_create(organization=world.org, actor=world.member, name="Kitchen Refit!")
    second = project_create(organization=world.org, actor=world.member, name="kitchen refit")
    assert (first.slug, second.slug) == ("kitchen-refit", "kitchen-refit-2")


def test_it_counts_only_open_projects_against_the_plan(world, monkeypatch):
    seen = []

    def allowed(organization, *, current_count):
        seen.append(current_count)
        return current_count < 2

    monkeypatch.setattr("projects.services.project_creation_allowed", allowed)
    ProjectFactory(status=ProjectStatus.COMPLETED)
    project_create(organization=world.org, actor=None, name="One")
    project_create(organization=world.org, actor=None, name="Two")
    with pytest.raises(ProjectLimitError):
        project_create(organization=world.org, actor=None, name="Three")
    assert seen == [0, 1, 2]
    assert not Project.objects.filter(name="Three").exists()


def test_renaming_back_does_not_keep_an_alias_equal_to_the_name(world):
    project = ProjectFactory(name="A")
    project_update(project=project, actor=None, name="B")
    project_update(project=project, actor=None, name="A")
    assert list(project.aliases.values_list("alias", flat=True)) == ["B"]


def test_it_refuses_an_unknown_status(world):
    with pytest.raises(ProjectError):
        project_update(project=ProjectFactory(), actor=None, status="lost")


def test_merge_moves_everything_and_refuses_to_merge_twice_or_into_itself(world):
    source, target = ProjectFactory(name="Old"), ProjectFactory(name="New")
    EventFactory(project=source)
    EmailFactory(project=source)
    project_merge(source=source, target=target, actor=None)
    assert (target.events.count(), target.emails.count()) == (1, 1)
    assert ProjectAlias.objects.get(alias="Old").project == target
    with pytest.raises(ProjectError):
        project_merge(source=source, target=target, actor=None)
    with pytest.raises(ProjectError):
        project_merge(source=target, target=target, actor=None)


def test_removing_a_signal_forgets_it_for_that_project_only(world):
    project, other = ProjectFactory(), ProjectFactory()
    signal = ProjectSignal.objects.create(project=project, kind="sender", value="ana@harbour.example")
    kept = ProjectSignal.objects.create(project=other, kind="sender", value="ana@harbour.example")
    project_signal_remove(signal=signal, actor=world.member)
    assert list(ProjectSignal.objects.values_list("pk", flat=True)) == [kept.pk]
