from django import template
from django.urls import reverse

from accounts.selectors import membership_invitations_pending

register = template.Library()


@register.inclusion_tag("accounts/invitation_notice.html", takes_context=True)
def invitation_notice(context):
    """"A company has invited your login": a notice for the overview (one count query)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    count = membership_invitations_pending(user=user).count() if user is not None else 0
    return {"invitation_count": count, "url": reverse("accounts:invitations")}
