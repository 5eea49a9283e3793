from django.contrib import admin
from django.http import HttpRequest

from inbound.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log is evidence of what arrived: staff read it, nobody edits it."""

    # The sender check beside the verdict: the provider's SPF, DKIM and DMARC words and what they add up to.
    list_display = (
        "created_at",
        "provider",
        "organization",
        "verdict",
        "cause",
        "sender",
        "recipient",
        "subject",
        "reason",
        "authentication",
        "spf",
        "dkim",
        "dmarc",
    )
    list_filter = ("verdict", "cause", "authentication", "provider", "organization")
    search_fields = ("message_id", "event_id", "sender", "recipient", "subject")
    date_hierarchy = "created_at"
    list_select_related = ("organization",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
