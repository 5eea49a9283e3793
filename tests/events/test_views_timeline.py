"""The project timeline page and its event actions, through real requests."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import Event, EventHistory, EventKind, EventStatus
from tests.factories import EmailFactory, EventFactory, ProjectFactory


@pytest.fixture
def member(world, client_as):
    return client_as(world.member)


@pytest.fixture
def viewer(world, client_as):
    return client_as(world.viewer)


@pytest.fixture
def project(org):
    return ProjectFactory(name="Kitchen refit")


def url(name, project, event=None, **kw):
    args = [project.code] if event is None else [project.code, event.code]
    return reverse(f"projects:{name}", args=args)


def test_it_groups_events_by_month_with_undated_ones_last(world, member, project):
    EventFactory(project=project, title="Kick-off", date=dt.date(2026, 3, 2))
    EventFactory(project=project, title="Handover", date=dt.date(2026, 5, 20))
    EventFactory(project=project, title="Pick tiles", date=None)
    EventFactory(project=project, title="Survey", date=dt.date(2026, 3, 1))
    response = member.get(url("timeline", project))
    groups = response.context["page"].groups
    assert [g.label for g in groups] == ["March 2026", "May 2026", "No date"]
    assert [e.title for e in groups[0].events] == ["Survey", "Kick-off"]
    body = response.content.decode()
    assert body.index("Survey") < body.index("Kick-off") < body.index("Handover") < body.index("Pick tiles")


def test_it_shows_badges_people_amounts_low_confidence_and_the_source_link(world, member, project):
    email = EmailFactory(project=project)
    event = EventFactory(
        project=project,
        email=email,
        kind=EventKind.PAYMENT,
        title="Deposit",
        people=["Ana Diaz"],
        amount="1200.00",
        currency="EUR",
        confidence=0.4,
    )
    body = member.get(url("timeline", project)).content.decode()
    assert "Payment" in body
    assert "Ana Diaz" in body
    assert "1,200.00 EUR" in body
    assert "40% sure" in body
    assert f"{reverse('events:email', args=[email.code])}?highlight={event.code}" in body


def test_it_does_not_flag_confident_events(world, member, project):
    EventFactory(project=project, confidence=0.95)
    assert "% sure" not in member.get(url("timeline", project)).content.decode()


def test_it_strikes_superseded_and_cancelled_events_and_shows_their_history(world, member, project):
    newer = EventFactory(project=project, title="Meeting (moved)")
    old = EventFactory(project=project, title="Meeting", status=EventStatus.SUPERSEDED, superseded_by=newer)
    EventHistory.objects.create(event=old, action="rescheduled", before={"date": "2026-03-01"}, note="By email")
    body = member.get(url("timeline", project)).content.decode()
    row = re.search(rf'<li class="event[^"]*" id="event-{old.code}">.*?</li>\s*(?=<li|</ol>)', body, re.S).group(0)
    assert "struck" in row
    assert "Superseded" in row
    assert "rescheduled" in row
    assert "Replaced by “Meeting (moved)”" in row


def test_a_confirmation_shows_who_confirmed_it_and_links_their_email(world, member, project):
    event = EventFactory(project=project, title="Kickoff", email=EmailFactory(project=project))
    reply = EmailFactory(project=project, from_name="Olivia Owner", subject="Re: Kickoff")
    EventHistory.objects.create(event=event, action="confirmed", email=reply, note="Tuesday at 10am works.")
    body = member.get(url("timeline", project)).content.decode()
    row = re.search(r'<li class="history-confirmed">.*?</li>', body, re.S).group(0)
    assert "confirmed by Olivia Owner in" in row
    assert f'<a href="{reverse("events:email", args=[reply.code])}">Re: Kickoff</a>: Tuesday at 10am works.' in row


def test_a_confirmed_event_says_so_and_is_no_longer_shown_as_doubtful(world, member, project):
    doubtful = EventFactory(project=project, title="Kickoff", confidence=0.45)
    alone = EventFactory(project=project, title="Deposit", confidence=0.45)
    reply = EmailFactory(project=project)
    EventHistory.objects.create(event=doubtful, action="confirmed", email=reply, after={"confidence": 0.45})

    body = member.get(url("timeline", project)).content.decode()

    def row(event):
        return re.search(rf'<li class="event[^"]*" id="event-{event.code}">.*?</li>\s*(?=<li|</ol>)', body, re.S).group(
            0
        )

    assert ">Confirmed</span>" in row(doubtful)
    assert "% sure" not in row(doubtful)  # 45 % twice reads 70 %
    assert ">Confirmed</span>" not in row(alone)
    assert "45% sure" in row(alone)


def test_it_escapes_hostile_event_text(world, member, project):
    EventFactory(project=project, title="<script>alert(1)</script>", evidence='"><img src=x onerror=alert(1)>')
    body = member.get(url("timeline", project)).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x" not in body


def test_it_filters_by_kind_when_dates_and_text(world, member, project):
    today = timezone.localdate()
    EventFactory(project=project, title="Past meeting", date=today - dt.timedelta(days=3))
    EventFactory(project=project, title="Future deadline", kind=EventKind.DEADLINE, date=today + dt.timedelta(days=3))
    EventFactory(project=project, title="Undated decision", kind=EventKind.DECISION, date=None, people=["Zoë"])

    def titles(**params):
        page = member.get(url("timeline", project), params).context["page"]
        return [e.title for g in page.groups for e in g.events]

    assert titles(kind="deadline") == ["Future deadline"]
    assert titles(when="upcoming") == ["Future deadline"]
    assert titles(when="past") == ["Past meeting"]
    assert titles(date_from=today.isoformat()) == ["Future deadline"]
    assert titles(date_to=today.isoformat()) == ["Past meeting"]
    assert titles(q="zoë") == ["Undated decision"]
    assert titles(kind="nonsense") == ["Past meeting", "Future deadline", "Undated decision"]


def test_it_answers_a_filter_change_with_the_results_fragment(world, member, project):
    EventFactory(project=project, title="Future deadline", kind=EventKind.DEADLINE)
    response = member.get(url("timeline", project), {"kind": "deadline"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="timeline-results">')
    assert "Future deadline" in body
    assert "<html" not in body


def _titles(body):
    return re.findall(r'<span class="event-title">([^<]+)</span>', body)


def test_it_pages_with_a_cursor_and_appends_without_repeating_the_month_heading(world, member, project):
    for i in range(60):
        EventFactory(project=project, title=f"E{i:02d}", date=dt.date(2026, 4, 1) + dt.timedelta(days=i // 10))
    first = member.get(url("timeline", project), {"kind": "meeting"})
    page = first.context["page"]
    assert page.count == 50
    assert page.next_cursor
    body = first.content.decode()
    assert 'hx-trigger="revealed"' in body
    next_url = first.context["next_url"]
    assert "kind=meeting" in next_url
    assert f'href="{next_url.replace("&", "&amp;")}"' in body  # the no-JS "Load more" link
    second = member.get(url("timeline", project) + next_url, HTTP_HX_REQUEST="true")
    second_body = second.content.decode()
    assert _titles(second_body) == [f"E{i:02d}" for i in range(50, 60)]
    assert "April 2026" not in second_body  # continues the month shown on the first page
    assert 'hx-trigger="revealed"' not in second_body


def test_it_ignores_a_tampered_cursor(world, member, project):
    EventFactory(project=project, title="Only")
    response = member.get(url("timeline", project), {"cursor": "not-a-cursor!"})
    assert response.status_code == 200
    assert _titles(response.content.decode()) == ["Only"]


def test_the_timeline_costs_the_same_queries_with_1_and_500_events(world, member, project, django_assert_num_queries):
    email = EmailFactory(project=project)
    first = EventFactory(project=project, email=email, suggested=True)
    EventHistory.objects.create(event=first, action="edited", actor=world.member)
    EventHistory.objects.create(event=first, action="confirmed", email=email)
    with CaptureQueriesContext(connection) as one:
        assert member.get(url("timeline", project)).status_code == 200
    for i in range(499):
        event = EventFactory(
            project=project,
            email=EmailFactory(project=project) if i % 2 else email,
            date=None if i % 7 == 0 else dt.date(2026, 1 + i % 12, 1 + i % 27),
            suggested=i % 3 == 0,
        )
        EventHistory.objects.create(event=event, action="edited", actor=world.member)
        EventHistory.objects.create(event=event, action="confirmed", email=EmailFactory(project=project))
    with django_assert_num_queries(len(one.captured_queries)):
        response = member.get(url("timeline", project))
    assert response.context["page"].count == 50
    with django_assert_num_queries(len(one.captured_queries)):
        member.get(url("timeline", project) + response.context["next_url"])


def test_a_viewer_sees_no_edit_controls(world, viewer, project):
    event = EventFactory(project=project)
    body = viewer.get(url("timeline", project)).content.decode()
    assert event.title in body
    assert url("event_edit", project, event) not in body
    assert url("event_delete", project, event) not in body
    assert "Add an event" not in body


@pytest.mark.parametrize(
    "action,data",
    [
        ("event_edit", {"kind": "meeting", "title": "Hacked"}),
        ("event_done", {"done": "1"}),
        ("event_delete", {}),
        ("event_restore", {}),
        ("event_move", {}),
    ],
)
def test_a_viewer_cannot_change_events(world, viewer, project, action, data):
    event = EventFactory(project=project, title="Original")
    assert viewer.post(url(action, project, event), data).status_code == 403
    event.refresh_from_db()
    assert (event.title, event.done, event.deleted_at, event.edited) == ("Original", False, None, False)


def test_a_viewer_cannot_add_events(world, viewer, project):
    assert viewer.post(url("event_create", project), {"kind": "meeting", "title": "Nope"}).status_code == 403
    assert not Event.objects.filter(title="Nope").exists()


def test_an_outsider_and_other_workspaces_ids_get_404(world, member, client_as, project, other_org):
    event = EventFactory(project=project)
    assert client_as(world.outsider).get(url("timeline", project)).status_code == 404
    with schema_context(other_org.schema_name):
        foreign = ProjectFactory()
        foreign_event = EventFactory(project=foreign)
    assert member.get(url("timeline", foreign)).status_code == 404
    assert member.post(url("event_delete", project, foreign_event)).status_code == 404
    assert member.post(url("event_delete", foreign, event)).status_code == 404


def test_a_member_adds_an_event_by_hand(world, member, project):
    response = member.post(
        url("event_create", project),
        {"kind": "deadline", "title": "Order tiles", "date": "2026-12-04", "people": "Ana, Bo"},
    )
    event = Event.objects.get(title="Order tiles")
    assert response.status_code == 302
    assert response["Location"].endswith(f"#event-{event.code}")
    assert (event.provider, event.people, event.edited_by) == ("manual", ["Ana", "Bo"], world.member)


def test_an_invalid_new_event_shows_the_errors(world, member, project):
    response = member.post(url("event_create", project), {"kind": "meeting", "title": "Tiles", "time": "10:00"})
    assert response.status_code == 400
    assert "A time needs a date." in response.content.decode()


def test_inline_edit_returns_the_form_then_the_updated_row(world, member, project):
    event = EventFactory(project=project, title="Site meeting", date=dt.date(2026, 12, 3), time=dt.time(9, 30))
    form = member.get(url("event_edit", project, event), HTTP_HX_REQUEST="true")
    form_body = form.content.decode()
    assert form_body.lstrip().startswith(f'<li class="event editing" id="event-{event.code}">')
    assert 'value="Site meeting"' in form_body
    saved = member.post(
        url("event_edit", project, event),
        {"kind": "meeting", "title": "Site visit", "date": "2026-12-03", "time": "09:30"},
        HTTP_HX_REQUEST="true",
    )
    body = saved.content.decode()
    assert body.lstrip().startswith(f'<li class="event kind-meeting" id="event-{event.code}">')
    assert "Site visit" in body
    assert "Edited" in body
    event.refresh_from_db()
    assert (event.title, event.time, event.edited) == ("Site visit", dt.time(9, 30), True)


def test_an_inline_edit_that_changes_the_date_reloads_the_timeline(world, member, project):
    event = EventFactory(project=project, title="Site meeting", date=dt.date(2026, 12, 3), time=None)
    saved = member.post(
        url("event_edit", project, event),
        {"kind": "meeting", "title": "Site meeting", "date": "2027-01-14"},
        HTTP_HX_REQUEST="true",
    )
    assert saved["HX-Refresh"] == "true"
    event.refresh_from_db()
    assert event.date == dt.date(2027, 1, 14)
    page = member.get(url("timeline", project)).content.decode()
    assert "Event saved and moved to its new date." in page


def test_edit_works_without_javascript(world, member, project):
    event = EventFactory(project=project, title="Site meeting")
    page = member.get(url("event_edit", project, event))
    assert "<html" in page.content.decode()
    response = member.post(url("event_edit", project, event), {"kind": "decision", "title": "Go with oak"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.kind, event.title) == ("decision", "Go with oak")


def test_an_invalid_inline_edit_keeps_the_form_with_errors(world, member, project):
    event = EventFactory(project=project, title="Site meeting")
    response = member.post(url("event_edit", project, event), {"kind": "meeting", "title": ""}, HTTP_HX_REQUEST="true")
    assert "editing" in response.content.decode()
    event.refresh_from_db()
    assert event.title == "Site meeting"


def test_mark_done_swaps_the_row(world, member, project):
    event = EventFactory(project=project)
    body = member.post(url("event_done", project, event), {"done": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert "is-done" in body
    assert "Reopen" in body
    event.refresh_from_db()
    assert event.done is True


def test_delete_offers_undo_with_htmx(world, member, project):
    event = EventFactory(project=project, title="Oops")
    body = member.post(url("event_delete", project, event), HTTP_HX_REQUEST="true").content.decode()
    assert "Deleted “Oops”" in body
    assert url("event_restore", project, event) in body
    assert "Oops" not in _titles(member.get(url("timeline", project)).content.decode())
    restored = member.post(url("event_restore", project, event), HTTP_HX_REQUEST="true").content.decode()
    assert f'id="event-{event.code}"' in restored
    event.refresh_from_db()
    assert event.deleted_at is None


def test_the_low_confidence_badge_goes_once_a_person_edits_the_event(world, member, project):
    event = EventFactory(project=project, title="Site meeting", date=dt.date(2026, 12, 3), time=None, confidence=0.45)
    assert "45% sure" in member.get(url("event_row", project, event), HTTP_HX_REQUEST="true").content.decode()

    saved = member.post(
        url("event_edit", project, event),
        {"kind": "meeting", "title": "Site visit", "date": "2026-12-03"},
        HTTP_HX_REQUEST="true",
    ).content.decode()

    assert "Site visit" in saved and "Edited" in saved
    assert "% sure" not in saved


def test_saving_an_event_unchanged_confirms_it_and_the_badge_goes(world, member, project):
    event = EventFactory(project=project, title="Site meeting", date=dt.date(2026, 12, 3), time=None, confidence=0.45)

    saved = member.post(
        url("event_edit", project, event),
        {"kind": event.kind, "title": "Site meeting", "date": "2026-12-03"},
        HTTP_HX_REQUEST="true",
    ).content.decode()

    assert "% sure" not in saved
    assert "Edited" not in saved  # nothing was changed
    assert f"checked by {world.member.email}" in saved


def test_delete_and_undo_give_back_the_row_as_it_was(world, member, project):
    event = EventFactory(project=project, title="Oops", confidence=0.45)
    before = member.get(url("event_row", project, event), HTTP_HX_REQUEST="true").content.decode()
    assert "45% sure" in before and "Edited" not in before

    member.post(url("event_delete", project, event), HTTP_HX_REQUEST="true")
    restored = member.post(url("event_restore", project, event), HTTP_HX_REQUEST="true").content.decode()

    assert "45% sure" in restored
    assert ">Edited<" not in restored
    assert "(was edited" not in restored


def test_delete_without_javascript_redirects_to_an_undo_banner(world, member, project):
    event = EventFactory(project=project, title="Oops")
    response = member.post(url("event_delete", project, event))
    assert response.status_code == 302
    page = member.get(response["Location"]).content.decode()
    assert "Deleted “Oops”" in page
    assert url("event_restore", project, event) in page


def test_a_member_moves_an_event_to_another_project(world, member, project):
    event = EventFactory(project=project, title="Boiler service")
    target = ProjectFactory(name="Bathroom")
    body = member.post(
        url("event_move", project, event), {"project": str(target.code)}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "moved to" in body
    event.refresh_from_db()
    assert event.project == target
    assert event.history.filter(action="moved").exists()


def test_it_exports_the_project_timeline_as_csv_and_json(world, viewer, project):
    EventFactory(project=project, title="Survey")
    csv_response = viewer.get(reverse("projects:project_export", args=[project.code, "csv"]))
    assert csv_response["Content-Disposition"].startswith("attachment;")
    assert "Survey" in csv_response.content.decode()
    data = viewer.get(reverse("projects:project_export", args=[project.code, "json"])).json()
    assert [p["name"] for p in data["projects"]] == ["Kitchen refit"]
    assert viewer.get(reverse("projects:project_export", args=[project.code, "xml"])).status_code == 404
    assert viewer.get(reverse("projects:export", args=["csv"])).status_code == 200


# --- suggestions (Event.suggested): shown as such, accepted or dismissed in one click ---------


def _row(body, event):
    found = re.search(rf'<li class="event[^"]*" id="event-{event.code}">.*?</li>\s*(?=<li|</ol>|$)', body, re.S)
    assert found, f"no row for {event.title}"
    return found.group(0)


@pytest.fixture
def suggestion(project):
    return EventFactory(project=project, title="Maybe a walk-through", confidence=0.45, suggested=True)


def test_a_suggestion_is_shown_as_such_with_accept_and_dismiss_instead_of_done_and_delete(
    world, member, project, suggestion
):
    plain = EventFactory(project=project, title="Tiles due")
    body = member.get(url("timeline", project)).content.decode()
    row = _row(body, suggestion)
    assert row.startswith(f'<li class="event kind-meeting is-suggested" id="event-{suggestion.code}">')
    assert '<span class="badge suggested"' in row and ">Suggested</span>" in row
    assert url("event_accept", project, suggestion) in row
    assert url("event_dismiss", project, suggestion) in row
    assert url("event_done", project, suggestion) not in row
    assert url("event_delete", project, suggestion) not in row
    other = _row(body, plain)
    assert "is-suggested" not in other and ">Suggested</span>" not in other
    assert url("event_accept", project, plain) not in other


def test_a_viewer_sees_a_suggestion_but_cannot_accept_or_dismiss_it(world, viewer, project, suggestion):
    row = _row(viewer.get(url("timeline", project)).content.decode(), suggestion)
    assert ">Suggested</span>" in row
    assert url("event_accept", project, suggestion) not in row
    assert url("event_dismiss", project, suggestion) not in row
    for action in ("event_accept", "event_dismiss"):
        assert viewer.post(url(action, project, suggestion)).status_code == 403
        assert viewer.post(url(action, project, suggestion), HTTP_HX_REQUEST="true").status_code == 403
    suggestion.refresh_from_db()
    assert (suggestion.suggested, suggestion.deleted_at, suggestion.edited) == (True, None, False)
    assert not suggestion.history.exists()


@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_a_member_or_above_accepts_a_suggestion(world, client_as, project, suggestion, role):
    response = client_as(world.user(role)).post(url("event_accept", project, suggestion))
    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert (suggestion.suggested, suggestion.edited_by) == (False, world.user(role))


def test_accept_and_dismiss_are_post_only_and_404_elsewhere(world, member, client_as, project, suggestion, other_org):
    assert member.get(url("event_accept", project, suggestion)).status_code == 405
    assert member.get(url("event_dismiss", project, suggestion)).status_code == 405
    assert client_as(world.outsider).post(url("event_accept", project, suggestion)).status_code == 404
    with schema_context(other_org.schema_name):
        foreign = EventFactory(project=ProjectFactory(), suggested=True)
    assert member.post(url("event_accept", project, foreign)).status_code == 404
    assert member.post(url("event_dismiss", project, foreign)).status_code == 404
    suggestion.refresh_from_db()
    assert suggestion.suggested is True


def test_accepting_with_htmx_swaps_in_a_plain_row_with_who_accepted_it(world, member, project, suggestion):
    response = member.post(url("event_accept", project, suggestion), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith(f'<li class="event kind-meeting" id="event-{suggestion.code}">')
    assert ">Suggested</span>" not in body
    assert url("event_done", project, suggestion) in body
    assert "accepted by member@testorg.test" in body
    assert "<html" not in body
    suggestion.refresh_from_db()
    assert suggestion.suggested is False


def test_accepting_without_javascript_redirects_to_the_event_with_a_message(world, member, project, suggestion):
    response = member.post(url("event_accept", project, suggestion))
    assert response.status_code == 302
    assert response["Location"].endswith(f"#event-{suggestion.code}")
    page = member.get(response["Location"]).content.decode()
    assert "“Maybe a walk-through” accepted." in page
    assert "is-suggested" not in _row(page, suggestion)


def test_dismissing_with_htmx_offers_undo_which_brings_the_suggestion_back(world, member, project, suggestion):
    body = member.post(url("event_dismiss", project, suggestion), HTTP_HX_REQUEST="true").content.decode()
    assert "Dismissed “Maybe a walk-through”" in body
    assert url("event_restore", project, suggestion) in body
    assert "Maybe a walk-through" not in _titles(member.get(url("timeline", project)).content.decode())
    suggestion.refresh_from_db()
    assert suggestion.deleted_at is not None
    assert list(suggestion.history.values_list("action", flat=True)) == ["dismissed"]

    restored = member.post(url("event_restore", project, suggestion), HTTP_HX_REQUEST="true").content.decode()
    assert restored.lstrip().startswith(f'<li class="event kind-meeting is-suggested" id="event-{suggestion.code}">')
    suggestion.refresh_from_db()
    assert (suggestion.deleted_at, suggestion.suggested) == (None, True)


def test_dismissing_without_javascript_redirects_to_an_undo_banner(world, member, project, suggestion):
    response = member.post(url("event_dismiss", project, suggestion))
    assert response.status_code == 302
    page = member.get(response["Location"]).content.decode()
    assert "Dismissed “Maybe a walk-through”." in page
    assert url("event_restore", project, suggestion) in page
    assert "Maybe a walk-through" not in _titles(page)


def test_dismissing_an_event_accepted_meanwhile_leaves_it_on_the_timeline(world, member, project, suggestion):
    member.post(url("event_accept", project, suggestion))
    swapped = member.post(url("event_dismiss", project, suggestion), HTTP_HX_REQUEST="true").content.decode()
    assert swapped.lstrip().startswith(f'<li class="event kind-meeting" id="event-{suggestion.code}">')
    response = member.post(url("event_dismiss", project, suggestion))
    assert response["Location"].endswith(f"#event-{suggestion.code}")
    assert "is no longer a suggestion" in member.get(response["Location"]).content.decode()
    suggestion.refresh_from_db()
    assert suggestion.deleted_at is None


def test_upcoming_leaves_suggestions_out_but_the_whole_timeline_shows_them(world, member, project, suggestion):
    EventFactory(project=project, title="Tiles due")

    def titles(**params):
        page = member.get(url("timeline", project), params).context["page"]
        return [e.title for g in page.groups for e in g.events]

    assert titles(when="upcoming") == ["Tiles due"]
    assert sorted(titles()) == ["Maybe a walk-through", "Tiles due"]


def test_a_today_line_separates_past_and_upcoming_events(world, member, project):
    today = timezone.localdate()
    EventFactory(project=project, title="Done and dusted", date=today - dt.timedelta(days=40))
    EventFactory(project=project, title="Coming up", date=today + dt.timedelta(days=40))
    body = member.get(url("timeline", project)).content.decode()
    assert body.count('class="today-line"') == 1
    assert body.index("Done and dusted") < body.index('class="today-line"') < body.index("Coming up")
    assert f"Today · {today:%a} {today.day} {today:%b}" in body


def test_an_htmx_page_that_continues_past_today_does_not_draw_the_line_again(world, member, project):
    today = timezone.localdate()
    for i in range(60):
        EventFactory(project=project, title=f"E{i:02d}", date=today + dt.timedelta(days=i - 10))
    first = member.get(url("timeline", project))
    assert first.content.decode().count('class="today-line"') == 1
    second = member.get(url("timeline", project) + first.context["next_url"], HTTP_HX_REQUEST="true")
    assert 'class="today-line"' not in second.content.decode()
