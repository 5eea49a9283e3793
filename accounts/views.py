"""Account → Time zone, and the endpoint the browser reports its zone to after sign-in."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.forms import DetectedTimeZoneForm, TimeZoneForm
from accounts.models import User
from accounts.services import user_time_zone_detect, user_time_zone_set


@login_required
def time_zone(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    form = TimeZoneForm(request.POST or None, current=user.time_zone)
    if request.method == "POST" and form.is_valid():
        user_time_zone_set(user=user, time_zone=form.cleaned_data["time_zone"])
        messages.success(request, f"Times are now shown in {user.time_zone.replace('_', ' ')}.")
        return redirect("account_time_zone")
    return render(request, "account/time_zone.html", {"form": form})


@login_required
@require_POST
def time_zone_detect(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    form = DetectedTimeZoneForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    kept = user_time_zone_detect(user=user, time_zone=form.cleaned_data["time_zone"])
    return JsonResponse({"time_zone": user.time_zone, "kept": kept})
