import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    """The services' messages are read in English here (the site's default language is Danish)."""
    with translation.override("en"):
        yield
