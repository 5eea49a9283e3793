"""The project pages: list (search, status filter, htmx fragment), create, settings, merge, feeds,
and what Projectr learned."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tenants.utils import schema_context

from organizations.models import Organization
from projects.models import Project, ProjectAlias, ProjectSignal, ProjectStatus
from tests.factories import EmailFactory, EventFactory, ProjectFactory


@pytest.fixture
def member(world, client_as):
    return client_as(world.member)


@pytest.fixture
def viewer(world, client_as):
    return client_as(world.viewer)


@pytest.fixture
def admin(world, client_as):
    return client_as(world.admin)


def test_it_lists_projects_with_counts_and_next_event(world, member):
    project = ProjectFactory(name="Kitchen refit", client_name="Acme")
    EventFactory.create_batch(2, project=project)
    response = member.get(reverse("projects:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Kitchen refit" in body
    assert "Acme" in body
    row = response.context["projects"][0]
    assert row.event_count == 2
    assert row.next_event_date is not None


def test_a_suggestion_is_not_the_projects_next_event_until_it_is_accepted(world, member):
    import datetime as dt

    from django.utils import timezone

    from events.services import event_suggestion_accept

    project = ProjectFactory(name="Kitchen refit")
    today = timezone.localdate()
    maybe = EventFactory(
        project=project, title="Maybe a walk-through", date=today + dt.timedelta(days=1), suggested=True
    )
    EventFactory(project=project, title="Tiles due", date=today + dt.timedelta(days=5))

    def next_event():
        row = member.get(reverse("projects:list")).context["projects"][0]
        return row.next_event_title, row.event_count

    assert next_event() == ("Tiles due", 2)  # counted among the events, but not what comes next
    event_suggestion_accept(event=maybe, actor=world.member)
    assert next_event() == ("Maybe a walk-through", 2)


def test_it_sorts_projects_by_last_activity(world, member):
    import datetime as dt

    from django.utils import timezone

    ProjectFactory(name="Old", last_activity_at=timezone.now() - dt.timedelta(days=9))
    ProjectFactory(name="Fresh", last_activity_at=timezone.now())
    names = [p.name for p in member.get(reverse("projects:list")).context["projects"]]
    assert names == ["Fresh", "Old"]


def test_it_explains_how_to_send_the_first_email_when_there_are_no_projects(world, member):
    response = member.get(reverse("projects:list"))
    assert "No projects yet" in response.content.decode()
    assert world.org.inbound_address in response.content.decode()


def test_it_filters_by_search_and_status_including_aliases(world, member):
    kitchen = ProjectFactory(name="Kitchen refit")
    ProjectAlias.objects.create(project=kitchen, alias="Blue Door")
    ProjectFactory(name="Garden", status=ProjectStatus.ON_HOLD)
    assert [p.name for p in member.get(reverse("projects:list"), {"q": "blue"}).context["projects"]] == [
        "Kitchen refit"
    ]
    assert [p.name for p in member.get(reverse("projects:list"), {"status": "on_hold"}).context["projects"]] == [
        "Garden"
    ]
    empty = member.get(reverse("projects:list"), {"q": "nothing-like-this"})
    assert "No project matches" in empty.content.decode()


def test_it_answers_htmx_with_the_results_fragment_only(world, member):
    ProjectFactory(name="Kitchen refit")
    response = member.get(reverse("projects:list"), {"q": "kit"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="project-results">')
    assert "<html" not in body
    assert "Kitchen refit" in body
    assert "HX-Request" in response["Vary"]


def test_the_filter_form_keeps_the_url_in_sync_with_htmx(world, member):
    body = member.get(reverse("projects:list")).content.decode()
    assert 'hx-push-url="true"' in body
    assert 'hx-target="#project-results"' in body


def test_the_project_list_costs_the_same_queries_with_1_and_500_projects(world, member, django_assert_num_queries):
    # The baseline is measured, not hard-coded: banners and other context processors add
    # their own fixed queries; what must not change is the count as projects grow.
    url = reverse("projects:list")
    EventFactory.create_batch(3, project=ProjectFactory())
    with CaptureQueriesContext(connection) as one:
        assert member.get(url).status_code == 200
    projects = ProjectFactory.create_batch(499)
    EventFactory.create_batch(3, project=projects[-1])
    with django_assert_num_queries(len(one.captured_queries)):
        response = member.get(url)
    assert len(response.context["projects"]) == 50
    assert len(one.captured_queries) <= 12


def test_a_viewer_sees_no_create_button_and_cannot_create(world, viewer):
    body = viewer.get(reverse("projects:list")).content.decode()
    assert reverse("projects:create") not in body
    assert viewer.get(reverse("projects:create")).status_code == 403
    assert viewer.post(reverse("projects:create"), {"name": "Sneaky"}).status_code == 403
    assert not Project.objects.filter(name="Sneaky").exists()


def test_an_outsider_gets_404(world, client_as):
    assert client_as(world.outsider).get(reverse("projects:list")).status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(world, workspace_client):
    response = workspace_client.get(reverse("projects:list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_member_creates_a_project(world, member):
    response = member.post(reverse("projects:create"), {"name": "Loft", "client_name": "Bo", "client_email": "BO@x.io"})
    project = Project.objects.get(name="Loft")
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:timeline", args=[project.code])
    assert project.client_email == "bo@x.io"
    assert project.slug == "loft"


def test_it_refuses_a_project_over_the_plan_limit(world, member, monkeypatch):
    monkeypatch.setattr("projects.services.project_creation_allowed", lambda org, current_count: False)
    response = member.post(reverse("projects:create"), {"name": "One too many"})
    assert response.status_code == 200
    assert "no more open projects" in response.content.decode()
    assert not Project.objects.filter(name="One too many").exists()


def test_a_member_renames_a_project_and_the_old_name_becomes_an_alias(world, member):
    project = ProjectFactory(name="Kitchen")
    response = member.post(
        reverse("projects:edit", args=[project.code]),
        {"name": "Kitchen refit", "client_name": "", "client_email": "", "status": "completed"},
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.name == "Kitchen refit"
    assert project.status == ProjectStatus.COMPLETED
    assert list(project.aliases.values_list("alias", flat=True)) == ["Kitchen"]


def test_a_viewer_cannot_change_a_project(world, viewer):
    project = ProjectFactory(name="Kitchen")
    url = reverse("projects:edit", args=[project.code])
    assert viewer.get(url).status_code == 403
    assert viewer.post(url, {"name": "Hacked", "status": "active"}).status_code == 403
    project.refresh_from_db()
    assert project.name == "Kitchen"


def test_a_member_merges_two_projects(world, member):
    source = ProjectFactory(name="Kitchen (old)")
    target = ProjectFactory(name="Kitchen")
    ProjectAlias.objects.create(project=source, alias="KR-17")
    EventFactory.create_batch(2, project=source)
    EmailFactory(project=source)
    response = member.post(
        reverse("projects:merge", args=[source.code]), {"target": str(target.code), "confirm": "yes"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(
        "/projects/merges/"
    )  # what moved, with its Undo (tests/projects/test_merge.py)
    source.refresh_from_db()
    assert source.merged_into == target
    assert target.events.count() == 2
    assert target.emails.count() == 1
    assert set(target.aliases.values_list("alias", flat=True)) == {"KR-17", "Kitchen (old)"}
    # Old links lead to the project it was merged into.
    old = member.get(reverse("projects:timeline", args=[source.code]))
    assert old["Location"] == reverse("projects:timeline", args=[target.code])
    assert [p.name for p in member.get(reverse("projects:list")).context["projects"]] == ["Kitchen"]


def test_merge_is_a_member_action_that_a_get_only_reviews(world, member, viewer):
    source, target = ProjectFactory(), ProjectFactory()
    url = reverse("projects:merge", args=[source.code])
    assert member.get(url, {"target": str(target.code), "confirm": "yes"}).status_code == 200
    assert member.put(url).status_code == 405
    assert viewer.post(url, {"target": str(target.code), "confirm": "yes"}).status_code == 403
    source.refresh_from_db()
    assert source.merged_into is None


def test_a_member_creates_regenerates_and_revokes_a_project_feed(world, member):
    project = ProjectFactory()
    url = reverse("projects:feed", args=[project.code])
    member.post(url, {"action": "rotate"})
    project.refresh_from_db()
    first = project.feed_token
    assert len(first) >= 40
    body = member.get(reverse("projects:edit", args=[project.code])).content.decode()
    assert f"/feeds/projects/{project.code}/{first}.ics" in body
    member.post(url, {"action": "rotate"})
    project.refresh_from_db()
    assert project.feed_token not in ("", first)
    member.post(url, {"action": "revoke"})
    project.refresh_from_db()
    assert project.feed_token == ""


def test_only_admins_manage_the_organization_feed(world, member, admin):
    url = reverse("projects:organization_feed")
    assert member.post(url, {"action": "rotate"}).status_code == 403
    assert Organization.objects.get(pk=world.org.pk).feed_token == ""
    admin.post(url, {"action": "rotate"})
    token = Organization.objects.get(pk=world.org.pk).feed_token
    assert token
    assert f"/feeds/{token}.ics" in admin.get(reverse("projects:list")).content.decode()


def test_another_workspaces_project_is_not_found(world, member, other_org):
    with schema_context(other_org.schema_name):
        foreign = ProjectFactory(name="Foreign")
    assert member.get(reverse("projects:edit", args=[foreign.code])).status_code == 404
    assert member.post(reverse("projects:merge", args=[foreign.code]), {}).status_code == 404


# --- what Projectr learned ----------------------------------------------------------------------


def _learned(project, actor):
    return [
        ProjectSignal.objects.create(project=project, kind=kind, value=value, taught_by=actor)
        for kind, value in (("word", "boards"), ("domain", "harbour.example"), ("sender", "ana@harbour.example"))
    ]


def test_the_settings_show_what_projectr_learned_and_who_taught_it(world, member):
    project = ProjectFactory(name="Harbour cafe")
    _learned(project, world.admin)
    _learned(ProjectFactory(name="Elsewhere"), world.admin)[0].delete()
    body = member.get(reverse("projects:edit", args=[project.code])).content.decode()
    learned = body[body.index('<article id="learned">') :]
    learned = learned[: learned.index("</article>")]
    assert learned.count('<tr id="signal-') == 3
    # Senders first, then domains, then words.
    assert learned.index("ana@harbour.example") < learned.index("harbour.example<") < learned.index("boards")
    assert "Sender&#x27;s domain" in learned and "Subject word" in learned
    assert learned.count("admin@testorg.test") == 3


def test_the_settings_say_when_nothing_was_learned_yet(world, member):
    project = ProjectFactory()
    assert "Nothing yet." in member.get(reverse("projects:edit", args=[project.code])).content.decode()


def test_a_member_removes_a_signal_with_htmx_and_the_section_is_redrawn(world, member):
    project = ProjectFactory()
    sender = _learned(project, world.admin)[2]
    response = member.post(
        reverse("projects:signal_remove", args=[project.code]), {"signal": sender.pk}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<article id="learned">')
    assert "Forgot the sender “ana@harbour.example”." in body
    assert body.count('<tr id="signal-') == 2
    assert not ProjectSignal.objects.filter(pk=sender.pk).exists()


def test_removing_a_signal_without_javascript_redirects_to_the_section(world, member):
    project = ProjectFactory()
    word = _learned(project, world.admin)[0]
    response = member.post(reverse("projects:signal_remove", args=[project.code]), {"signal": word.pk})
    assert response["Location"] == reverse("projects:edit", args=[project.code]) + "#learned"
    assert "Forgot the subject word “boards”." in member.get(response["Location"]).content.decode()


def test_a_viewer_cannot_remove_a_signal_nor_another_projects_one(world, member, viewer):
    project, other = ProjectFactory(), ProjectFactory()
    signal = _learned(project, world.admin)[0]
    url = reverse("projects:signal_remove", args=[project.code])
    assert viewer.post(url, {"signal": signal.pk}).status_code == 403
    assert member.post(reverse("projects:signal_remove", args=[other.code]), {"signal": signal.pk}).status_code == 404
    assert member.post(url, {"signal": "nope"}).status_code == 404
    assert member.get(url).status_code == 405
    assert ProjectSignal.objects.filter(pk=signal.pk).exists()
