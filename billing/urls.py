from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.billing_overview, name="overview"),
    path("checkout/<slug:plan_code>/", views.billing_checkout, name="checkout"),
    path("portal/", views.billing_portal, name="portal"),
    path("settings/", views.billing_settings, name="settings"),
]
