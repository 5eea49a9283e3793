"""The workspace URLs plus a bench-only admin site with the tenant models on default ModelAdmins:
the changelist of the same table is the baseline of each page."""

from django.contrib import admin
from django.urls import path

from config.urls_tenant import urlpatterns as tenant_urlpatterns
from events.models import Email, Event
from projects.models import Project
from usage.models import UsageRecord

site = admin.AdminSite(name="benchadmin")
for model in (Project, Event, UsageRecord):
    site.register(model)
# Search's baseline (bench/pages.py): the changelist's ?q= is an icontains (LIKE) over these.
site.register(Email, search_fields=["subject", "from_name", "from_address", "text"])

urlpatterns = [path("bench-admin/", site.urls), *tenant_urlpatterns]
