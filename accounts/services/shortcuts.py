"""Shortcuts ("Genvägar"): a login saves the page it is on, with its filters, under a name.

A shortcut is the login's own in one company. Its path is checked when it is saved: an absolute path of
this site (no host, no scheme, no ``javascript:``), of a portal page the login may open with a GET (not
the back office, not a sign-in or public page, not a download), so a shortcut can never be an open
redirect or lead anywhere the menu would not. The list's position in the results (its paging cursor) is
dropped: a shortcut opens the list at its start, with the filters.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import Resolver404, resolve
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, Shortcut
from accounts.redirects import safe_path

SHORTCUTS_MAX = 30
PATH_MAX_LENGTH = 2000
NAME_MAX_LENGTH = 80
# Query parameters that are a position in a list, not what it shows (selfcare.lists.POSITION_PARAMS).
DROPPED_PARAMS = ("after", "before", "last")


class ShortcutRefused(ValidationError):
    """The shortcut cannot be saved as asked; the message says why. Nothing was written."""


def _portal_view(path: str):
    try:
        match = resolve(path)
    except Resolver404:
        return None, None
    return match, getattr(match.func, "view_class", None)


def shortcut_path_clean(path: str, *, membership) -> str:
    """The path and query to store for ``path``, or ShortcutRefused when it is not a portal page the
    membership may open."""
    from accounts.views_base import PortalViewMixin, membership_holds

    refused = ShortcutRefused(_("Only a page of the portal that you can open can be saved as a shortcut."))
    path = (path or "").strip()
    if not path or len(path) > PATH_MAX_LENGTH or safe_path(path) is None:
        raise refused
    parts = urlsplit(path)
    match, view_class = _portal_view(parts.path)
    if match is None or view_class is None or "admin" in match.namespaces:
        raise refused
    if not issubclass(view_class, PortalViewMixin) or "get" not in view_class.http_method_names \
            or not hasattr(view_class, "get"):
        raise refused
    if match.func.view_initkwargs.get("export_format"):  # a download, not a page
        raise refused
    permission = view_class.required_permission
    if isinstance(permission, dict):
        if "GET" not in permission:
            raise refused
        permission = permission["GET"]
    if not membership_holds(membership, permission):
        raise refused
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
             if key not in DROPPED_PARAMS and value != ""]
    return parts.path + (f"?{urlencode(query)}" if query else "")


def shortcut_opens(shortcut: Shortcut, *, membership) -> bool:
    """Whether the login may still open the shortcut's page (its permissions may have changed since)."""
    try:
        shortcut_path_clean(shortcut.path, membership=membership)
    except ShortcutRefused:
        return False
    return True


def _name_clean(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ShortcutRefused(_("Give the shortcut a name."))
    if len(name) > NAME_MAX_LENGTH:
        raise ShortcutRefused(_("The name can be at most %(count)s characters.") % {"count": NAME_MAX_LENGTH})
    return name


def _lock(membership) -> None:
    """One change at a time per login and company (the count limit and the positions stay right)."""
    Membership.objects.select_for_update().filter(pk=membership.pk).first()


def _mine(membership):
    return Shortcut.objects.filter(user_id=membership.user_id, company_id=membership.company_id)


def _taken(membership, name: str, *, other_than=None) -> bool:
    return _mine(membership).filter(name__iexact=name).exclude(pk=other_than).exists()


NAME_TAKEN = _("You already have a shortcut with this name.")


def shortcut_create(*, membership, name: str, path: str) -> Shortcut:
    """Save ``path`` (checked) under ``name`` as the login's shortcut in the membership's company."""
    name = _name_clean(name)
    path = shortcut_path_clean(path, membership=membership)
    with transaction.atomic():
        _lock(membership)
        mine = _mine(membership)
        if mine.count() >= SHORTCUTS_MAX:
            raise ShortcutRefused(_("You have %(count)s shortcuts, the most there can be. Delete one first.")
                                  % {"count": SHORTCUTS_MAX})
        if _taken(membership, name):
            raise ShortcutRefused(NAME_TAKEN)
        last = mine.order_by("-position").values_list("position", flat=True).first()
        try:
            with transaction.atomic():
                return Shortcut.objects.create(user_id=membership.user_id, company_id=membership.company_id,
                                               name=name, path=path, position=0 if last is None else last + 1)
        except IntegrityError:
            raise ShortcutRefused(NAME_TAKEN) from None


def shortcut_rename(*, membership, shortcut_id: int, name: str) -> Shortcut:
    """Rename one of the login's shortcuts (Shortcut.DoesNotExist for anyone else's: a 404)."""
    name = _name_clean(name)
    with transaction.atomic():
        _lock(membership)
        shortcut = _mine(membership).select_for_update().get(pk=shortcut_id)
        if _taken(membership, name, other_than=shortcut.pk):
            raise ShortcutRefused(NAME_TAKEN)
        shortcut.name = name
        shortcut.save(update_fields=["name"])
    return shortcut


def shortcut_delete(*, membership, shortcut_id: int) -> None:
    with transaction.atomic():
        _lock(membership)
        _mine(membership).get(pk=shortcut_id).delete()


def shortcut_move(*, membership, shortcut_id: int, up: bool) -> None:
    """Move a shortcut one place up or down; the positions are renumbered 0, 1, 2 ... on the way."""
    with transaction.atomic():
        _lock(membership)
        shortcuts = list(_mine(membership).order_by("position", "pk"))
        index = next((i for i, shortcut in enumerate(shortcuts) if shortcut.pk == shortcut_id), None)
        if index is None:
            raise Shortcut.DoesNotExist
        other = index - 1 if up else index + 1
        if 0 <= other < len(shortcuts):
            shortcuts[index], shortcuts[other] = shortcuts[other], shortcuts[index]
        for position, shortcut in enumerate(shortcuts):
            shortcut.position = position
        Shortcut.objects.bulk_update(shortcuts, ["position"])
