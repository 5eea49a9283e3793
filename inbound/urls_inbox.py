"""The inbox page and its review actions, inbound's; config/urls_tenant.py mounts them at /inbox/ in
the `events` namespace, beside events' pages for the mail (events/urls.py)."""

from django.urls import path

from inbound import views_inbox, views_review

urlpatterns = [
    path("", views_inbox.inbox, name="inbox"),
    path("held/<uuid:code>/release/", views_review.held_release, name="held_release"),
    path("held/<uuid:code>/delete/", views_review.held_delete, name="held_delete"),
    path("held/<uuid:code>/trust-domain/", views_review.held_trust_domain, name="held_trust_domain"),
    path("refused/<int:pk>/", views_review.refused_offer, name="refused_offer"),
    path("refused/<int:pk>/allow/", views_review.refused_allow, name="refused_allow"),
    path("refused/<int:pk>/bring-in/", views_review.refused_bring_in, name="refused_bring_in"),
]
