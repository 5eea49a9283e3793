"""Mounted under /anymail/ before anymail's own URLs, so these two paths are ours."""

from django.urls import path

from inbound import views

urlpatterns = [
    path("postmark/inbound/", views.postmark_inbound, name="inbound_postmark"),
    path("amazon_ses/inbound/", views.amazon_ses_inbound, name="inbound_amazon_ses"),
]
