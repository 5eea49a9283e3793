from django.urls import path

from api import views

app_name = "api_keys"

urlpatterns = [
    path("", views.api_keys, name="list"),
    path("<uuid:code>/revoke/", views.api_key_revoke_view, name="revoke"),
]
