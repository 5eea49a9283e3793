from django.urls import path

from organizations import views, views_senders

app_name = "workspace"

urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("settings/senders/<int:pk>/delete/", views.allowed_sender_delete, name="allowed_sender_delete"),
    path(
        "settings/trusted-domains/<int:pk>/delete/", views_senders.trusted_domain_delete, name="trusted_domain_delete"
    ),
    path("team/", views.team, name="team"),
    path("team/members/<int:pk>/role/", views.member_role, name="member_role"),
    path("team/members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("team/invitations/<uuid:code>/resend/", views.invitation_resend, name="invitation_resend"),
    path("team/invitations/<uuid:code>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    # A personal preference, not a workspace change: under accounts/ like the other account
    # settings, so viewers may use it (views.digest_toggle still requires membership).
    path("accounts/digest/", views.digest_toggle, name="digest_toggle"),
    # The member's own calendar feed address, the same kind of personal setting.
    path("accounts/feed/", views.member_feed, name="member_feed"),
]
