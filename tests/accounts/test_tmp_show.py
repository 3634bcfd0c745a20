import pytest
from django.urls import reverse
from tests.accounts.test_audit import log  # noqa
from tests.conftest import verified_client
pytestmark = pytest.mark.django_db

def test_show(superuser, log):
    c = verified_client(superuser)
    open("/tmp/audit/page.html","w").write(c.get(reverse("accounts:audit_log")).content.decode())
    open("/tmp/audit/frag.html","w").write(c.get(reverse("accounts:audit_log"), {"sort": "what"}, HTTP_HX_REQUEST="true").content.decode())
