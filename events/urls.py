"""Events' workspace URLs, one list per place they live; config/urls_tenant.py mounts each at its
prefix, in the namespace people's links already use:

- /inbox/ (`events`): Unfiled, re-processing and single emails, beside the inbox page itself,
  which is inbound's (inbound.urls.inbox_patterns: it reads inbound's delivery log);
- /projects/ (`projects`): a project's timeline, its events and the exports, beside projects'
  own pages (projects/urls.py), which never import events;
- /agenda/ (`agenda`), /search/ (`search`), /feeds/ (`feeds`: calendar feeds, by token).
"""

from django.urls import URLPattern, path

from events import views_agenda, views_emails, views_feeds, views_filing, views_search, views_timeline

inbox_patterns: list[URLPattern] = [
    path("unfiled/", views_filing.unfiled, name="unfiled"),
    path("reprocess-all/", views_emails.inbox_reprocess_all, name="inbox_reprocess_all"),
    path("<uuid:code>/", views_emails.email_detail, name="email"),
    path("<uuid:code>/attachments/<uuid:attachment_code>/", views_emails.email_attachment, name="email_attachment"),
    path("<uuid:code>/reprocess/", views_emails.email_reprocess, name="email_reprocess"),
    path("<uuid:code>/file/", views_filing.email_file, name="email_file"),
    path("<uuid:code>/undo-filing/", views_filing.email_filing_undo, name="email_filing_undo"),
]

timeline_patterns: list[URLPattern] = [
    path("export.<str:fmt>", views_timeline.organization_export, name="export"),
    path("<uuid:code>/", views_timeline.timeline, name="timeline"),
    path("<uuid:code>/export.<str:fmt>", views_timeline.project_export, name="project_export"),
    path("<uuid:code>/events/new/", views_timeline.event_create, name="event_create"),
    path("<uuid:code>/events/<uuid:event_code>/", views_timeline.event_row, name="event_row"),
    path("<uuid:code>/events/<uuid:event_code>/edit/", views_timeline.event_edit, name="event_edit"),
    path("<uuid:code>/events/<uuid:event_code>/done/", views_timeline.event_done, name="event_done"),
    path("<uuid:code>/events/<uuid:event_code>/delete/", views_timeline.event_delete, name="event_delete"),
    path("<uuid:code>/events/<uuid:event_code>/restore/", views_timeline.event_restore, name="event_restore"),
    path("<uuid:code>/events/<uuid:event_code>/move/", views_timeline.event_move, name="event_move"),
    path("<uuid:code>/events/<uuid:event_code>/accept/", views_timeline.event_accept, name="event_accept"),
    path("<uuid:code>/events/<uuid:event_code>/dismiss/", views_timeline.event_dismiss, name="event_dismiss"),
]

# The agenda is the workspace's landing page: / redirects to it (config.views.dashboard_home).
agenda_patterns: list[URLPattern] = [path("", views_agenda.agenda_page, name="index")]

search_patterns: list[URLPattern] = [path("", views_search.search_page, name="index")]

feed_patterns: list[URLPattern] = [
    path("<str:token>.ics", views_feeds.organization_feed, name="organization"),
    path("projects/<uuid:code>/<str:token>.ics", views_feeds.project_feed, name="project"),
]
