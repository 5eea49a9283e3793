"""Staff views of the ledger: daily rollups across organizations, with per-organization totals;
the raw rows; the Message Batches of backfills."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Sum
from django.http import HttpRequest
from django.template.response import TemplateResponse

from usage.models import AIBatch, DailyUsage, UsageRecord


@admin.register(DailyUsage)
class DailyUsageAdmin(admin.ModelAdmin):
    list_display = ["day", "organization", "provider", "model", "calls", "emails", "cost_usd"]
    list_filter = ["provider", "model", "organization"]
    date_hierarchy = "day"
    list_select_related = ["organization"]
    change_list_template = "usage/admin/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        response = super().changelist_view(request, extra_context)
        if isinstance(response, TemplateResponse) and response.context_data and "cl" in response.context_data:
            # Totals per organization for whatever the filters and date drill-down selected.
            queryset = response.context_data["cl"].queryset
            response.context_data["organization_totals"] = (
                queryset.values("organization__name")
                .annotate(cost=Sum("cost_usd"), emails=Sum("emails"), calls=Sum("calls"))
                .order_by("-cost")
            )
        return response


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = [
        "created_at", "organization", "provider", "model", "input_tokens", "output_tokens", "batch", "cost_usd",
    ]  # fmt: skip
    list_filter = ["provider", "model", "batch", "organization"]
    date_hierarchy = "created_at"
    list_select_related = ["organization"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AIBatch)
class AIBatchAdmin(admin.ModelAdmin):
    list_display = ["created_at", "organization", "batch_id", "status", "requests", "applied", "fallback", "cost_usd"]
    list_filter = ["status", "organization"]
    date_hierarchy = "created_at"
    list_select_related = ["organization"]
    exclude = ["email_ids"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
