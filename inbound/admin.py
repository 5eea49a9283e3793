from django.contrib import admin
from django.http import HttpRequest

from inbound.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log is evidence of what arrived: staff read it, nobody edits it."""

    list_display = ("created_at", "provider", "organization", "verdict", "sender", "recipient", "subject", "reason")
    list_filter = ("verdict", "provider", "organization")
    search_fields = ("message_id", "event_id", "sender", "recipient", "subject")
    date_hierarchy = "created_at"
    list_select_related = ("organization",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
