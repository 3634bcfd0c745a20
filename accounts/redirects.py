"""Where to go after a form: the ``next`` a page asked for, when it is a path on this site.

Every view that honours ``next`` (sign-in, second factor, step-up, language, company switch, the back
office's sign-in) goes through ``safe_next``, so an address on another site, a scheme, a bare word such
as ``next=x`` or a control character never reaches a redirect: the visitor gets the default instead,
and the step they just passed is kept.
"""

from urllib.parse import urlencode, urlsplit

from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def safe_path(candidate: str, request=None) -> str | None:
    """``candidate`` when it is an absolute path on this site ("/users/?page=2"), else None. Without a
    request (a path to store, such as a shortcut's) only a path without any host passes."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return None
    if any(ord(char) < 32 or ord(char) == 127 or char == "\\" for char in candidate):
        return None
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return None
    hosts = {request.get_host()} if request is not None else set()
    if not url_has_allowed_host_and_scheme(candidate, allowed_hosts=hosts,
                                           require_https=request is not None and request.is_secure()):
        return None
    return candidate


def safe_next(request, default: str = "overview") -> str:
    """The request's ``next`` (POST first, then GET) if it is a safe path, else the URL named ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    return safe_path(candidate, request) or reverse(default)


def with_next(url: str, next_url: str | None, **params) -> str:
    """``url`` with ``next`` (and any other parameters) properly encoded in its query string."""
    query = {**params, **({"next": next_url} if next_url else {})}
    return f"{url}?{urlencode(query)}" if query else url
