from django.urls import path

from events import views_emails

urlpatterns = [
    path("<uuid:code>/", views_emails.email_detail, name="email"),
    path("<uuid:code>/attachments/<uuid:attachment_code>/", views_emails.email_attachment, name="email_attachment"),
    path("<uuid:code>/reprocess/", views_emails.email_reprocess, name="email_reprocess"),
]
