from django.urls import path

from events import views_emails, views_filing

urlpatterns = [
    path("<uuid:code>/", views_emails.email_detail, name="email"),
    path("<uuid:code>/attachments/<uuid:attachment_code>/", views_emails.email_attachment, name="email_attachment"),
    path("<uuid:code>/reprocess/", views_emails.email_reprocess, name="email_reprocess"),
    path("<uuid:code>/file/", views_filing.email_file, name="email_file"),
    path("<uuid:code>/undo-filing/", views_filing.email_filing_undo, name="email_filing_undo"),
]
