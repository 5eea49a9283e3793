from __future__ import annotations

from django.contrib import admin

from billing.models import LimitNotice, MeterReport, Plan


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "monthly_price_usd", "email_limit", "project_limit", "ai_budget_usd"]


@admin.register(LimitNotice)
class LimitNoticeAdmin(admin.ModelAdmin):
    list_display = ["organization", "period_start", "limit", "threshold", "sent_at"]
    list_filter = ["limit", "threshold"]


@admin.register(MeterReport)
class MeterReportAdmin(admin.ModelAdmin):
    list_display = ["organization", "day", "reported_cents", "identifier", "created_at"]
    readonly_fields = ["organization", "day", "reported_cents", "identifier", "created_at"]
