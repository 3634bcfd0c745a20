"""Password hashing (issue 6, item 10): Argon2id first; PBKDF2 hashes still verify and are upgraded
to Argon2id at the login's next sign-in. (The rest of the suite hashes with MD5 for speed, so these
tests put the production hashers back.)"""

import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse

from selfcare.settings import base
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_hashers(settings):
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    return settings.PASSWORD_HASHERS


def test_argon2id_comes_first_and_pbkdf2_still_verifies():
    from django.contrib.auth.hashers import Argon2PasswordHasher
    from django.utils.module_loading import import_string

    assert issubclass(import_string(base.PASSWORD_HASHERS[0]), Argon2PasswordHasher)
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in base.PASSWORD_HASHERS[1:]


def test_new_passwords_are_hashed_with_argon2id_at_owasps_parameters(production_hashers):
    encoded = make_password(PASSWORD)
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_an_argon2_hash_with_other_parameters_is_upgraded_too(client, superuser, production_hashers):
    from django.contrib.auth.hashers import Argon2PasswordHasher

    superuser.password = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())  # Django's defaults
    superuser.save(update_fields=["password"])
    client.post(reverse("accounts:login"), {"username": superuser.email, "password": PASSWORD})
    superuser.refresh_from_db()
    assert superuser.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_pbkdf2_hash_is_upgraded_to_argon2id_at_sign_in(client, superuser, production_hashers):
    superuser.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    superuser.save(update_fields=["password"])
    assert superuser.password.startswith("pbkdf2_sha256$")

    response = client.post(reverse("accounts:login"), {"username": superuser.email, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:verify"))
    superuser.refresh_from_db()
    assert superuser.password.startswith("argon2$argon2id$")
    assert superuser.check_password(PASSWORD)


def test_a_wrong_password_upgrades_nothing(client, superuser, production_hashers):
    old = make_password(PASSWORD, hasher="pbkdf2_sha256")
    superuser.password = old
    superuser.save(update_fields=["password"])
    client.post(reverse("accounts:login"), {"username": superuser.email, "password": "wrong"})
    superuser.refresh_from_db()
    assert superuser.password == old
