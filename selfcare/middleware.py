"""Project-wide request guards that run before anything else reads the request."""

from django.shortcuts import render
from django.utils import translation

NUL = "\x00"


def _has_nul(values) -> bool:
    return any(NUL in value for value in values if isinstance(value, str))


class RefuseNulCharactersMiddleware:
    """A request with a NUL character in its path, parameters, form fields or headers is
    answered 400, with a page that says why, before a session, a view or a query sees it.

    PostgreSQL refuses NUL in text, so without this any text that reaches the database (a search box,
    a form field, a header that django-axes stores) is a server error, perhaps halfway through a step.
    No real text contains a NUL; refusing the whole request keeps every later field and parameter safe
    without each form having to remember it. File contents are not text and are not inspected.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._contains_nul(request):
            return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _contains_nul(request) -> bool:
        if NUL in request.path or NUL in request.path_info:
            return True
        if _has_nul(key for key in request.META if key.startswith("HTTP_")):
            return True
        if _has_nul(value for key, value in request.META.items() if key.startswith("HTTP_")):
            return True
        for data in (request.GET, request.POST) if request.method == "POST" else (request.GET,):
            for key, values in data.lists():
                if NUL in key or _has_nul(values):
                    return True
        if request.method == "POST":
            # (Django's upload parser already drops a NUL from a file's name.)
            if any(NUL in key for key in request.FILES):
                return True
        return False

    @staticmethod
    def _refuse(request):
        # Before the session and the login are read: the language comes from the cookie or the browser.
        language = translation.get_language_from_request(request)
        with translation.override(language):
            return render(request, "400_nul_character.html", status=400)
