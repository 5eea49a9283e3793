"""Merging projects: a summary of what moves, asked for before anything moves,
and an undo for a day that puts every moved row back (services, selector and views)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from organizations.models import Organization
from projects.models import Project, ProjectAlias, ProjectMerge, ProjectSignal, ProjectStatus
from projects.selectors import project_merge_summary
from projects.services import (
    MERGE_UNDO_WINDOW,
    ProjectError,
    ProjectLimitError,
    project_merge,
    project_merge_undo,
)
from tests.factories import EmailFactory, EventFactory, ProjectFactory


@pytest.fixture
def pair(world):
    """An old project with two emails, three events (one deleted), an alias and two taught signals,
    one of which the new project knows already; and the project it goes into."""
    source = ProjectFactory(name="Kitchen (old)", feed_token="feed-secret-old", status=ProjectStatus.ON_HOLD)
    target = ProjectFactory(name="Kitchen")
    emails = EmailFactory.create_batch(2, project=source)
    EventFactory.create_batch(2, project=source, email=emails[0])
    EventFactory(project=source, deleted_at=timezone.now())
    ProjectAlias.objects.create(project=source, alias="KR-17")
    ProjectSignal.objects.create(project=source, kind="sender", value="ana@harbour.example")
    ProjectSignal.objects.create(project=source, kind="word", value="kitchen")
    ProjectSignal.objects.create(project=target, kind="word", value="kitchen")
    return source, target


def _rows(project):
    return (
        set(project.emails.values_list("pk", flat=True)),
        set(project.events.values_list("pk", flat=True)),
        set(project.aliases.values_list("alias", flat=True)),
        set(project.signals.values_list("kind", "value")),
    )


# --- the summary --------------------------------------------------------------------------------


def test_the_summary_counts_what_would_move(pair, django_assert_num_queries):
    source, target = pair
    with django_assert_num_queries(5):
        summary = project_merge_summary(source, target)
    assert (summary.emails, summary.events, summary.aliases, summary.signals, summary.signals_kept) == (2, 2, 1, 1, 1)
    assert not summary.moves_nothing
    assert project_merge_summary(ProjectFactory(), target).moves_nothing


# --- the services -------------------------------------------------------------------------------


def test_a_merge_records_what_it_moved_and_the_undo_puts_it_all_back(world, pair):
    source, target = pair
    before_source, before_target = _rows(source), _rows(target)

    merge = project_merge(source=source, target=target, actor=world.member)

    source.refresh_from_db()
    assert (source.merged_into, source.status, source.feed_token) == (target, ProjectStatus.ARCHIVED, "")
    assert _rows(source) == (set(), set(), set(), {("word", "kitchen")})  # the signal the target knew stays
    assert _rows(target)[2] == {"KR-17", "Kitchen (old)"}
    assert merge.merged_by == world.member
    assert {k: len(v) for k, v in merge.moved.items()} == {"emails": 2, "events": 3, "aliases": 1, "signals": 1}
    assert merge.alias_added == "Kitchen (old)"

    back = project_merge_undo(organization=world.org, merge=merge, actor=world.admin)

    assert back == source
    source.refresh_from_db()
    assert (source.merged_into, source.status, source.feed_token) == (None, ProjectStatus.ON_HOLD, "feed-secret-old")
    assert (_rows(source), _rows(target)) == (before_source, before_target)
    merge.refresh_from_db()
    assert merge.undone_by == world.admin
    assert merge.undone_at is not None


def test_the_undo_leaves_what_happened_since_where_it_is(world, pair):
    source, target = pair
    merge = project_merge(source=source, target=target, actor=world.member)
    later = EmailFactory(project=target, subject="Filed after the merge")
    moved_on = ProjectFactory(name="Elsewhere", status=ProjectStatus.COMPLETED)  # not an open one: the plan has room
    event = Project.objects.get(pk=target.pk).events.filter(pk__in=merge.moved["events"]).first()
    event.project = moved_on
    event.save(update_fields=["project"])

    project_merge_undo(organization=world.org, merge=merge, actor=world.member)

    later.refresh_from_db()
    event.refresh_from_db()
    assert later.project == target
    assert event.project == moved_on


def test_a_merge_cannot_be_undone_twice_or_after_a_day(world, pair):
    source, target = pair
    merge = project_merge(source=source, target=target, actor=world.member)
    too_late = merge.created_at + MERGE_UNDO_WINDOW + dt.timedelta(seconds=1)
    with pytest.raises(ProjectError, match="for a day"):
        project_merge_undo(organization=world.org, merge=merge, actor=world.member, now=too_late)
    source.refresh_from_db()
    assert source.merged_into == target
    project_merge_undo(organization=world.org, merge=merge, actor=world.member)
    with pytest.raises(ProjectError, match="already undone"):
        project_merge_undo(organization=world.org, merge=merge, actor=world.member)


def test_an_undo_waits_for_the_merge_made_on_top_of_it(world, pair):
    source, target = pair
    first = project_merge(source=source, target=target, actor=world.member)
    project_merge(source=target, target=ProjectFactory(name="Kitchen 2026"), actor=world.member)
    with pytest.raises(ProjectError, match="merged again since"):
        project_merge_undo(organization=world.org, merge=first, actor=world.member)


def test_an_undo_that_would_reopen_a_project_over_the_plans_limit_is_refused(world, pair):
    source, target = pair  # Starter allows two open projects
    merge = project_merge(source=source, target=target, actor=world.member)
    ProjectFactory(name="Took the free place")
    with pytest.raises(ProjectLimitError):
        project_merge_undo(organization=world.org, merge=merge, actor=world.member)
    source.refresh_from_db()
    assert source.merged_into == target


# --- the views ----------------------------------------------------------------------------------


@pytest.fixture
def member(world, client_as):
    return client_as(world.member)


def test_the_settings_choose_no_project_for_the_person(world, member, pair):
    source, _ = pair
    body = member.get(reverse("projects:edit", args=[source.code])).content.decode()
    assert '<option value="" selected>Choose a project…</option>' in body
    assert f'<form method="get" action="{reverse("projects:merge", args=[source.code])}"' in body


def test_reviewing_a_merge_shows_what_moves_and_moves_nothing(world, member, pair):
    source, target = pair
    url = reverse("projects:merge", args=[source.code])
    response = member.get(url, {"target": str(target.code)})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Merge “Kitchen (old)” into “Kitchen”?" in body
    for line in ("<strong>2</strong> emails", "<strong>2</strong> events", "<strong>1</strong> other name",
                 "<strong>1</strong> thing Projectr learned", "1 it knows already stays behind"):  # fmt: skip
        assert line in body
    assert 'name="confirm" value="yes"' in body
    source.refresh_from_db()
    assert source.merged_into is None
    # A POST without the page's confirmation only shows the page again.
    assert member.post(url, {"target": str(target.code)}).status_code == 200
    source.refresh_from_db()
    assert source.merged_into is None


def test_a_confirmed_merge_leads_to_its_undo_and_the_undo_brings_the_project_back(world, member, pair):
    source, target = pair
    response = member.post(
        reverse("projects:merge", args=[source.code]), {"target": str(target.code), "confirm": "yes"}
    )
    merge = ProjectMerge.objects.get()
    assert response["Location"] == reverse("projects:merge_detail", args=[merge.code])
    page = member.get(response["Location"]).content.decode()
    assert "“Kitchen (old)” was merged into “Kitchen”" in page
    assert reverse("projects:merge_undo", args=[merge.code]) in page
    # The target's settings offer the undo for the day too.
    assert (
        reverse("projects:merge_undo", args=[merge.code])
        in member.get(reverse("projects:edit", args=[target.code])).content.decode()
    )

    response = member.post(reverse("projects:merge_undo", args=[merge.code]))

    assert response["Location"] == reverse("projects:timeline", args=[source.code])
    source.refresh_from_db()
    assert source.merged_into is None
    assert source.emails.count() == 2
    assert "Merge undone" in member.get(reverse("projects:merge_detail", args=[merge.code])).content.decode()


def test_an_undo_after_a_day_explains_instead(world, member, pair):
    source, target = pair
    merge = project_merge(source=source, target=target, actor=world.member)
    ProjectMerge.objects.filter(pk=merge.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    assert (
        "The day to undo this merge is over"
        in member.get(reverse("projects:merge_detail", args=[merge.code])).content.decode()
    )
    response = member.post(reverse("projects:merge_undo", args=[merge.code]), follow=True)
    assert "only be undone for a day" in response.content.decode()
    source.refresh_from_db()
    assert source.merged_into == target


def test_without_a_chosen_project_the_settings_say_so(world, member, pair):
    source, _ = pair
    response = member.get(reverse("projects:merge", args=[source.code]), follow=True)
    assert "Choose the project to merge into." in response.content.decode()


@pytest.mark.parametrize("role", ["viewer"])
def test_viewers_can_neither_review_merge_nor_undo(world, client_as, pair, role):
    source, target = pair
    merge = project_merge(source=ProjectFactory(), target=target, actor=world.member)
    viewer = client_as(world.user(role))
    url = reverse("projects:merge", args=[source.code])
    assert viewer.get(url, {"target": str(target.code)}).status_code == 403
    assert viewer.post(url, {"target": str(target.code), "confirm": "yes"}).status_code == 403
    assert viewer.get(reverse("projects:merge_detail", args=[merge.code])).status_code == 403
    assert viewer.post(reverse("projects:merge_undo", args=[merge.code])).status_code == 403
    merge.refresh_from_db()
    assert merge.undone_at is None


def test_undo_is_post_only(world, member, pair):
    source, target = pair
    merge = project_merge(source=source, target=target, actor=world.member)
    assert member.get(reverse("projects:merge_undo", args=[merge.code])).status_code == 405


def test_another_workspaces_merge_is_not_found(world, member, other_org: Organization):
    with schema_context(other_org.schema_name):
        merge = project_merge(source=ProjectFactory(), target=ProjectFactory(), actor=None)
    assert member.get(reverse("projects:merge_detail", args=[merge.code])).status_code == 404
    assert member.post(reverse("projects:merge_undo", args=[merge.code])).status_code == 404
    with schema_context(other_org.schema_name):
        merge.refresh_from_db()
        assert merge.undone_at is None
