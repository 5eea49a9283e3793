"""Filing by hand in the dashboard: the Unfiled list and its nav count, filing into a suggestion,
another project, a new project or "not project mail", moving from the inbox, and undo."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import Email, EmailFiling, EmailState, Event, FilingState
from organizations.models import Organization
from projects.models import Project, ProjectSignal, ProjectStatus
from tests.factories import EmailFactory, EventFactory, ProjectFactory

UNFILED = reverse("events:unfiled")
INBOX = reverse("events:inbox")


@pytest.fixture
def member(world, client_as):
    return client_as(world.member)


@pytest.fixture
def viewer(world, client_as):
    return client_as(world.viewer)


def waiting(*titles, day=None):
    day = day or timezone.localdate() + dt.timedelta(days=10)
    return {
        "provider": "rules",
        "model": "",
        "summary": "",
        "events": [
            {
                "kind": "meeting",
                "title": title,
                "date": day.isoformat(),
                "time": "10:00:00",
                "evidence": f"{title} is on {day:%-d %B} at 10am.",
                "confidence": 0.8,
            }
            for title in titles
        ],
    }


def unfiled_email(*, suggestions=(), events=("Site walk",), **fields):
    fields.setdefault("from_address", "ana@harbour.example")
    fields.setdefault("from_name", "Ana Diaz")
    return EmailFactory(
        project=None,
        filing=FilingState.UNFILED,
        filing_confidence=0.42,
        filing_reason="subject words",
        suggestions=list(suggestions),
        waiting=waiting(*events) if events else {},
        **fields,
    )


def suggestion(project=None, score=0.5, name="", client_name="", client_email=""):
    return {
        "project": project.pk if project else None,
        "score": score,
        "name": name,
        "client_name": client_name,
        "client_email": client_email,
    }


def file_url(email):
    return reverse("events:email_file", args=[email.code])


def undo_url(email):
    return reverse("events:email_filing_undo", args=[email.code])


def email_url(email):
    return reverse("events:email", args=[email.code])


def row(body, email):
    """The Unfiled row of `email` in a page or fragment."""
    found = re.search(rf'<article class="unfiled-row[^"]*" id="unfiled-{email.code}">.*?</article>', body, re.S)
    assert found, f"no row for {email.code}"
    return found.group(0)


# --- the nav count ------------------------------------------------------------------------------


def test_the_nav_shows_how_many_emails_are_unfiled(world, member):
    unfiled_email()
    unfiled_email()
    body = member.get(reverse("projects:list")).content.decode()
    nav = re.search(r'<li id="nav-unfiled">(.*?)</li>', body, re.S).group(1)
    assert f'href="{UNFILED}"' in nav
    assert re.search(r'Unfiled <span class="count">2</span>', nav)


def test_the_nav_has_no_unfiled_link_when_nothing_waits(world, member):
    EmailFactory()
    body = member.get(reverse("projects:list")).content.decode()
    assert '<li id="nav-unfiled"></li>' in body


def test_the_nav_count_is_one_count_that_the_partial_index_can_answer(world, member):
    unfiled_email()
    with CaptureQueriesContext(connection) as queries:
        member.get(reverse("projects:list"))
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"] and '"events_email"' in q["sql"]]
    assert len(counts) == 1
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {counts[0]}")
        plan = " ".join(r[0] for r in cursor.fetchall())
    assert "email_unfiled" in plan


# --- the Unfiled list ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member", "viewer"])
def test_every_member_sees_the_unfiled_list(world, client_as, role):
    unfiled_email(subject="Harbour cafe: menu boards")
    response = client_as(world.user(role)).get(UNFILED)
    assert response.status_code == 200
    assert "Harbour cafe: menu boards" in response.content.decode()


def test_an_outsider_gets_404_and_an_anonymous_visitor_is_sent_to_sign_in(world, client_as, workspace_client):
    assert client_as(world.outsider).get(UNFILED).status_code == 404
    assert "/accounts/login/" in workspace_client.get(UNFILED)["Location"]


def test_it_lists_unfiled_mail_newest_first_with_sender_date_and_waiting_events(world, member):
    now = timezone.now()
    older = unfiled_email(subject="Older one", received_at=now - dt.timedelta(days=2))
    newer = unfiled_email(subject="Newer one", received_at=now, events=("Tasting", "Menu deadline"))
    EmailFactory(subject="Filed already")
    body = member.get(UNFILED).content.decode()
    assert body.index("Newer one") < body.index("Older one")
    assert "Filed already" not in body
    newest = row(body, newer)
    assert "Ana Diaz" in newest and "ana@harbour.example" in newest
    assert f"{newer.date:%-d %b %Y}" in newest
    assert "Meeting" in newest and "Tasting" in newest and "Menu deadline" in newest
    assert row(body, older)


def test_it_ranks_the_suggestions_and_offers_the_proposed_project_with_editable_name_and_client(world, member):
    cafe = ProjectFactory(name="Harbour cafe")
    bakery = ProjectFactory(name="Harbour bakery")
    email = unfiled_email(
        suggestions=[
            suggestion(cafe, 0.55),
            suggestion(None, 0.4, "Harbour – menu boards", "Harbour Hospitality", "ana@harbour.example"),
            suggestion(bakery, 0.3),
        ]
    )
    html = row(member.get(UNFILED).content.decode(), email)
    assert html.index("Harbour cafe") < html.index("Harbour – menu boards") < html.index("Harbour bakery")
    assert "55% match" in html
    assert 'name="name" value="Harbour – menu boards"' in html
    assert 'name="client" value="Harbour Hospitality"' in html


def test_a_suggested_project_that_was_archived_or_merged_since_is_left_out(world, member):
    archived = ProjectFactory(name="Old harbour job", status=ProjectStatus.ARCHIVED)
    target = ProjectFactory(name="Harbour cafe")
    merged = ProjectFactory(name="Harbour twin", merged_into=target)
    email = unfiled_email(suggestions=[suggestion(archived, 0.5), suggestion(merged, 0.4), suggestion(target, 0.3)])
    html = row(member.get(UNFILED).content.decode(), email)
    suggestions = re.search(r'<ol class="suggestions".*?</ol>', html, re.S).group(0)
    assert "Harbour cafe" in suggestions
    assert "Old harbour job" not in suggestions and "Harbour twin" not in suggestions


def test_the_other_project_select_offers_open_projects_only(world, member):
    ProjectFactory(name="Open one")
    ProjectFactory(name="Done one", status=ProjectStatus.COMPLETED)
    email = unfiled_email()
    select = re.search(r'<select name="project".*?</select>', row(member.get(UNFILED).content.decode(), email), re.S)
    assert "Open one" in select.group(0)
    assert "Done one" not in select.group(0)


def test_a_viewer_sees_the_suggestions_but_no_filing_controls(world, viewer):
    cafe = ProjectFactory(name="Harbour cafe")
    email = unfiled_email(suggestions=[suggestion(cafe, 0.6)])
    html = row(viewer.get(UNFILED).content.decode(), email)
    assert "Harbour cafe (60%)" in html
    assert "<form" not in html


def test_it_says_when_nothing_waits(world, member):
    assert "Nothing waits for you" in member.get(UNFILED).content.decode()


def test_the_unfiled_list_costs_the_same_queries_with_1_and_500_emails(world, member, django_assert_num_queries):
    def batch(n, offset):
        projects = ProjectFactory.create_batch(n)
        return [
            unfiled_email(
                subject=f"Question {offset + i}",
                suggestions=[suggestion(projects[i], 0.5), suggestion(None, 0.3, f"New {i}", "Client")],
                events=("Call", "Deadline"),
            )
            for i in range(n)
        ]

    batch(1, 0)
    member.get(UNFILED)  # warm the session
    with CaptureQueriesContext(connection) as one:
        assert member.get(UNFILED).status_code == 200
    batch(499, 1)
    with django_assert_num_queries(len(one.captured_queries)):
        response = member.get(UNFILED)
    assert len(response.context["rows"]) == 50
    assert all(len(r.suggestions) == 2 for r in response.context["rows"])
    assert response.context["more_projects"] is True


# --- filing from Unfiled ------------------------------------------------------------------------


def test_one_click_files_into_a_suggestion_and_the_row_becomes_a_confirmation_with_undo(world, member):
    cafe = ProjectFactory(name="Harbour cafe")
    email = unfiled_email(subject="Menu boards", suggestions=[suggestion(cafe, 0.55)], events=("Site walk",))
    other = unfiled_email(from_address="someone@else.example")
    response = member.post(
        file_url(email),
        {"action": "project", "project": str(cafe.code), "shown_in": "unfiled", "next": UNFILED},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    confirmation = row(body, email)
    assert "Filed “Menu boards” into" in confirmation and "Harbour cafe" in confirmation
    assert undo_url(email) in confirmation
    assert "<select" not in confirmation
    # The nav's count follows, out of band.
    assert re.search(r'<li id="nav-unfiled" hx-swap-oob="true">.*Unfiled <span class="count">1</span>', body, re.S)
    email.refresh_from_db()
    assert (email.project, email.filing) == (cafe, FilingState.HAND)
    assert list(Event.objects.filter(project=cafe).values_list("title", flat=True)) == ["Site walk"]
    assert EmailFiling.objects.get(email=email).actor == world.member
    assert Email.objects.get(pk=other.pk).filing == FilingState.UNFILED


def test_without_javascript_filing_redirects_back_to_a_page_that_offers_the_undo(world, member):
    cafe = ProjectFactory(name="Harbour cafe")
    email = unfiled_email(subject="Menu boards")
    response = member.post(
        file_url(email), {"action": "project", "project": str(cafe.code), "shown_in": "unfiled", "next": UNFILED}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{UNFILED}?filed={email.code}"
    page = member.get(response["Location"]).content.decode()
    banner = re.search(r'<div class="undo-banner".*?</div>', page, re.S).group(0)
    assert "Filed “Menu boards” into" in banner
    assert undo_url(email) in banner
    assert "hx-post" not in banner  # the banner's email is not a row of the list


def test_it_files_into_a_new_project_with_the_name_and_client_as_edited(world, member):
    email = unfiled_email(
        suggestions=[suggestion(None, 0.4, "Harbour – menu", "Harbour Hospitality", "ana@harbour.example")]
    )
    response = member.post(
        file_url(email),
        {"action": "new", "name": "Harbour – menu boards", "client": "Harbour Hospitality Ltd",
         "client_email": "ana@harbour.example", "shown_in": "unfiled", "next": UNFILED},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    project = Project.objects.get(name="Harbour – menu boards")
    assert (project.client_name, project.client_email) == ("Harbour Hospitality Ltd", "ana@harbour.example")
    assert "Harbour – menu boards" in row(response.content.decode(), email)
    email.refresh_from_db()
    assert email.project == project
    assert project.events.count() == 1


def test_the_plans_project_limit_is_shown_in_the_row_and_nothing_is_filed(world, member):
    Organization.objects.filter(pk=world.org.pk).update(custom_project_limit=1)
    ProjectFactory(name="The one project")
    email = unfiled_email()
    response = member.post(
        file_url(email),
        {"action": "new", "name": "One too many", "shown_in": "unfiled", "next": UNFILED},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = row(response.content.decode(), email)
    assert re.search(r'role="alert">Your plan allows no more open projects', html)
    assert "<select" in html  # the controls stay, to choose an existing project instead
    assert not Project.objects.filter(name="One too many").exists()
    email.refresh_from_db()
    assert (email.project, email.filing) == (None, FilingState.UNFILED)


def test_without_javascript_the_project_limit_comes_back_as_a_message(world, member):
    Organization.objects.filter(pk=world.org.pk).update(custom_project_limit=0)
    email = unfiled_email()
    response = member.post(
        file_url(email), {"action": "new", "name": "One too many", "shown_in": "unfiled", "next": UNFILED}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain == [(UNFILED, 302)]
    assert "no more open projects" in response.content.decode()
    assert Email.objects.get(pk=email.pk).filing == FilingState.UNFILED


def test_not_project_mail_dismisses_it(world, member):
    email = unfiled_email(subject="Our SEO offer")
    response = member.post(
        file_url(email), {"action": "not_project", "shown_in": "unfiled", "next": UNFILED}, HTTP_HX_REQUEST="true"
    )
    assert "Marked “Our SEO offer” as not project mail." in row(response.content.decode(), email)
    email.refresh_from_db()
    assert (email.project, email.filing) == (None, FilingState.NOT_PROJECT)
    assert "Our SEO offer" not in member.get(UNFILED).content.decode()


def test_choosing_no_project_says_so(world, member):
    email = unfiled_email()
    response = member.post(
        file_url(email), {"action": "project", "shown_in": "unfiled", "next": UNFILED}, HTTP_HX_REQUEST="true"
    )
    assert "Choose a project." in row(response.content.decode(), email)
    assert Email.objects.get(pk=email.pk).filing == FilingState.UNFILED


def test_a_closed_project_is_refused_with_the_services_reason(world, member):
    closed = ProjectFactory(name="Done", status=ProjectStatus.COMPLETED)
    email = unfiled_email()
    response = member.post(
        file_url(email),
        {"action": "project", "project": str(closed.code), "shown_in": "unfiled"},
        HTTP_HX_REQUEST="true",
    )
    assert "That project is closed or merged" in row(response.content.decode(), email)


def test_undo_puts_the_email_back_in_unfiled_with_its_controls(world, member):
    cafe = ProjectFactory(name="Harbour cafe")
    email = unfiled_email(suggestions=[suggestion(cafe, 0.55)])
    member.post(file_url(email), {"action": "project", "project": str(cafe.code), "shown_in": "unfiled"})
    filing = EmailFiling.objects.get(email=email)
    response = member.post(
        undo_url(email), {"filing": filing.pk, "shown_in": "unfiled", "next": UNFILED}, HTTP_HX_REQUEST="true"
    )
    html = row(response.content.decode(), email)
    assert '<ol class="suggestions"' in html and "Harbour cafe" in html
    email.refresh_from_db()
    assert (email.project, email.filing) == (None, FilingState.UNFILED)
    assert not Event.objects.filter(email=email).exists()
    assert not ProjectSignal.objects.filter(project=cafe).exists()


def test_undo_without_javascript_redirects_back_without_the_banner(world, member):
    cafe = ProjectFactory(name="Harbour cafe")
    email = unfiled_email(subject="Menu boards")
    member.post(file_url(email), {"action": "project", "project": str(cafe.code)})
    filing = EmailFiling.objects.get(email=email)
    response = member.post(
        undo_url(email), {"filing": filing.pk, "shown_in": "unfiled", "next": f"{UNFILED}?filed={email.code}"}
    )
    assert response["Location"] == UNFILED
    page = member.get(UNFILED).content.decode()
    assert "“Menu boards”: Undone: the email is back in Unfiled." in page
    assert "undo-banner" not in page


def test_only_the_latest_filing_can_be_undone(world, member):
    cafe, bakery = ProjectFactory(name="Harbour cafe"), ProjectFactory(name="Harbour bakery")
    email = unfiled_email()
    member.post(file_url(email), {"action": "project", "project": str(cafe.code)})
    member.post(file_url(email), {"action": "project", "project": str(bakery.code)})
    first = EmailFiling.objects.filter(email=email).order_by("at", "id").first()
    response = member.post(undo_url(email), {"filing": first.pk, "shown_in": "email"}, follow=True)
    assert "Only the latest filing of an email can be undone." in response.content.decode()
    assert Email.objects.get(pk=email.pk).project == bakery


def test_a_filing_of_another_email_is_not_found(world, member):
    cafe = ProjectFactory()
    email, other = unfiled_email(), unfiled_email()
    member.post(file_url(other), {"action": "project", "project": str(cafe.code)})
    filing = EmailFiling.objects.get(email=other)
    assert member.post(undo_url(email), {"filing": filing.pk}).status_code == 404


def test_next_never_leaves_the_workspace(world, member):
    cafe = ProjectFactory()
    email = unfiled_email()
    response = member.post(
        file_url(email), {"action": "project", "project": str(cafe.code), "next": "https://evil.example/"}
    )
    assert response["Location"] == email_url(email)


# --- who may file -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_members_and_up_can_file(world, client_as, role):
    cafe = ProjectFactory()
    email = unfiled_email()
    response = client_as(world.user(role)).post(file_url(email), {"action": "project", "project": str(cafe.code)})
    assert response.status_code == 302
    assert Email.objects.get(pk=email.pk).project == cafe


def test_a_viewer_cannot_file_move_or_undo(world, viewer, member):
    cafe = ProjectFactory()
    email = unfiled_email()
    assert viewer.post(file_url(email), {"action": "project", "project": str(cafe.code)}).status_code == 403
    assert viewer.post(file_url(email), {"action": "not_project"}).status_code == 403
    member.post(file_url(email), {"action": "project", "project": str(cafe.code)})
    filing = EmailFiling.objects.get(email=email)
    assert viewer.post(undo_url(email), {"filing": filing.pk}).status_code == 403
    assert Email.objects.get(pk=email.pk).project == cafe


def test_outsiders_and_other_workspaces_emails_get_404(world, client_as, member, other_org):
    cafe = ProjectFactory()
    email = unfiled_email()
    assert client_as(world.outsider).post(file_url(email), {"action": "not_project"}).status_code == 404
    with schema_context(other_org.schema_name):
        foreign = EmailFactory(project=None, filing=FilingState.UNFILED)
    assert member.post(file_url(foreign), {"action": "project", "project": str(cafe.code)}).status_code == 404


def test_filing_is_post_only(world, member):
    email = unfiled_email()
    assert member.get(file_url(email)).status_code == 405
    assert member.get(undo_url(email)).status_code == 405


# --- moving from the inbox ----------------------------------------------------------------------


def test_each_processed_inbox_row_has_a_move_control(world, member):
    filed = EmailFactory(subject="Filed one")
    ProjectFactory(name="Bathroom")
    waiting_one = unfiled_email(subject="Waiting one")
    body = member.get(INBOX).content.decode()
    filed_row = re.search(rf'<tr id="email-{filed.code}">.*?</tr>', body, re.S).group(0)
    assert file_url(filed) in filed_row
    assert "Move to…" in filed_row and "Bathroom" in filed_row
    assert f">{filed.project.name}</option>" not in filed_row  # not into the project it is in
    unfiled_row = re.search(rf'<tr id="email-{waiting_one.code}">.*?</tr>', body, re.S).group(0)
    assert file_url(waiting_one) not in unfiled_row
    assert f"{email_url(waiting_one)}#filing" in unfiled_row


def test_a_viewer_sees_no_move_control_in_the_inbox(world, viewer):
    email = EmailFactory()
    assert file_url(email) not in viewer.get(INBOX).content.decode()


def test_moving_from_the_inbox_moves_the_events_and_swaps_the_row_with_htmx(world, member):
    email = EmailFactory(subject="Tiles", filing=FilingState.AUTO)
    event = EventFactory(project=email.project, email=email, title="Tile delivery")
    target = ProjectFactory(name="Bathroom")
    response = member.post(
        file_url(email),
        {"action": "project", "project": str(target.code), "shown_in": "inbox", "next": INBOX},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert re.search(rf'<tr id="email-{email.code}" class="filed-row">', body)
    assert f"Moved “Tiles” from {email.project.name} to" in body and "Bathroom" in body
    assert undo_url(email) in body and f'hx-target="#email-{email.code}"' in body
    event.refresh_from_db()
    assert event.project == target
    assert event.history.filter(action="moved").exists()

    filing = EmailFiling.objects.get(email=email)
    back = member.post(
        undo_url(email), {"filing": filing.pk, "shown_in": "inbox", "next": INBOX}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert re.search(rf'<tr id="email-{email.code}">', back)
    event.refresh_from_db()
    assert event.project == email.project


def test_moving_from_the_inbox_without_javascript_returns_to_the_same_inbox_page(world, member):
    email = EmailFactory(subject="Tiles")
    target = ProjectFactory(name="Bathroom")
    response = member.post(
        file_url(email),
        {"action": "project", "project": str(target.code), "shown_in": "inbox", "next": f"{INBOX}?state=processed"},
    )
    assert response["Location"] == f"{INBOX}?state=processed&filed={email.code}"
    page = member.get(response["Location"]).content.decode()
    assert "Moved “Tiles” from" in re.search(r'<div class="undo-banner".*?</div>', page, re.S).group(0)


def test_the_inbox_query_count_does_not_grow_with_open_projects(world, client_as, django_assert_num_queries):
    member = client_as(world.member)
    EmailFactory.create_batch(2, state=EmailState.PROCESSED)
    member.get(INBOX)
    with CaptureQueriesContext(connection) as one:
        member.get(INBOX)
    ProjectFactory.create_batch(100)
    EmailFactory.create_batch(60)
    with django_assert_num_queries(len(one.captured_queries)):
        response = member.get(INBOX)
    assert len(response.context["choices"]) == 30
    assert response.context["more_projects"] is True
