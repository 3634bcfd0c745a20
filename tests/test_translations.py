"""Every user-visible string is in the Danish, Swedish and English catalogues, translated and compiled."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale"
SOURCE_DIRS = ["accounts", "subscriptions", "orders", "invoices", "tickets", "groups", "selfcare", "templates"]


def msgids(po_file: Path) -> set[str]:
    """The msgids of a catalogue, via msgcat's one-entry-per-paragraph output."""
    text = subprocess.run(["msgcat", "--no-wrap", str(po_file)], capture_output=True, text=True, check=True).stdout
    return {match for match in re.findall(r'^msgid "(.*)"$', text, re.M) if match}


@pytest.mark.parametrize("language", ["da", "sv"])
def test_catalogue_is_fully_translated(language):
    po_file = LOCALE / language / "LC_MESSAGES" / "django.po"
    untranslated = subprocess.run(["msgattrib", "--untranslated", "--no-wrap", str(po_file)],
                                  capture_output=True, text=True, check=True).stdout
    fuzzy = subprocess.run(["msgattrib", "--only-fuzzy", "--no-wrap", str(po_file)],
                           capture_output=True, text=True, check=True).stdout
    assert re.findall(r'^msgid "(.+)"$', untranslated, re.M) == []
    assert re.findall(r'^msgid "(.+)"$', fuzzy, re.M) == []
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po_file)], check=True)


@pytest.mark.parametrize("language", ["da", "sv", "en"])
def test_compiled_catalogue_is_up_to_date(language, tmp_path):
    po_file = LOCALE / language / "LC_MESSAGES" / "django.po"
    mo_file = po_file.with_suffix(".mo")
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(po_file)], check=True)
    assert mo_file.read_bytes() == fresh.read_bytes(), "run `make messages` and commit the .mo files"


def test_every_source_string_is_in_the_catalogues(tmp_path):
    """makemessages on a copy of the source finds nothing the committed catalogues lack."""
    root = Path(settings.BASE_DIR)
    for name in SOURCE_DIRS:
        shutil.copytree(root / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(root / "manage.py", tmp_path / "manage.py")
    (tmp_path / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "da", "--no-obsolete", "--no-location"],
        cwd=tmp_path, check=True, capture_output=True,
    )
    found = msgids(tmp_path / "locale" / "da" / "LC_MESSAGES" / "django.po")
    missing = found - msgids(LOCALE / "da" / "LC_MESSAGES" / "django.po")
    assert not missing, f"strings missing from the catalogues (run `make messages`): {sorted(missing)}"


@pytest.mark.parametrize(("language", "expected"), [("da", "Log ind"), ("sv", "Logga in"), ("en", "Sign in")])
def test_sign_in_page_speaks_the_chosen_language(client, language, expected):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        html = client.get("/login/").content.decode()
    assert f'<html lang="{language}">' in html
    assert expected in html
