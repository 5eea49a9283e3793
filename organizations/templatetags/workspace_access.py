"""`{% may %}`: whether the member may use a page or an action, for showing its link or button.

    {% load workspace_access %}
    {% may "billing:overview" as may_billing %}
    {% may "workspace:allowed_sender_delete" sender.pk method="post" as may_remove %}

It asks organizations.access.may_use, which reads the target view's own guard: templates never
restate who may do what. Hiding is for people; the views still refuse (403) whatever is posted.
"""

from __future__ import annotations

from typing import Any

from django import template

from organizations.access import may_use

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context: template.Context, url_name: str, *args: Any, method: str = "get") -> bool:
    request = context.get("request")
    if request is None:  # the 500 page renders without one
        return False
    return may_use(request, url_name, *args, method=method)
