from django.urls import path

from events import views_inbox

urlpatterns = [
    path("", views_inbox.inbox, name="inbox"),
]
