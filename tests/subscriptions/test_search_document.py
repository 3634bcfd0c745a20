"""The subscription list's search reads one stored column (selfcare.search): it must find exactly the lines
that ``icontains`` on the employee, the number and the e-mail finds, and follow every change of them."""

import pytest
from django.db.models import Q

from selfcare.search import SEARCH_DOCUMENT_SEPARATOR
from subscriptions.models import Subscription
from subscriptions.views import SubscriptionListView
from tests.conftest import make_member, verified_client
from tests.factories import BillingAccountFactory, CompanyFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

TERMS = ["ann", "ANN", "æRø", "ØSTER", "åse", "4455", "+45 20", "20 11", "nordlys.ex", "_", "%", "100%", "a_b",
         "o'b", "\\", "jensen +45", "jensen anna", "example anna", "zz", "é", "ß"]


@pytest.fixture
def lines():
    company = CompanyFactory()
    account = BillingAccountFactory(company=company)
    rows = [
        ("Anna Jensen", "+45 20112233", "anna@nordlys.example"),
        ("Åse Ærø Østergaard", "+45 20445566", "aase@nordlys.example"),
        ("Liam O'Brien", "+46 701234567", "a_b@firma.example"),
        ("René 100% Strauß", "FIB-00001234", "rene\\x@firma.example"),
        ("Bo Berg", "+45 20778899", ""),
    ]
    return company, [SubscriptionFactory(account=account, employee_name=name, number=number, employee_email=email)
                     for name, number, email in rows]


def by_fields(company, term):
    condition = Q(employee_name__icontains=term) | Q(number__icontains=term) | Q(employee_email__icontains=term)
    return set(Subscription.objects.filter(company=company).filter(condition).values_list("pk", flat=True))


def by_document(company, term):
    view = SubscriptionListView()
    return set(Subscription.objects.filter(company=company).filter(view.search_fields_condition(term))
               .values_list("pk", flat=True))


def test_the_document_holds_the_lists_search_fields():
    # The column is built from the fields the list says it searches, in the same way.
    field = Subscription._meta.get_field(SubscriptionListView.search_document)
    referenced = [expression.name for expression in field.expression.flatten() if hasattr(expression, "name")]
    assert [name for name in referenced if name in {"employee_name", "number", "employee_email"}] \
        == SubscriptionListView.search_fields


@pytest.mark.parametrize("term", TERMS)
def test_the_document_finds_exactly_what_icontains_on_each_field_finds(lines, term):
    company, _rows = lines
    assert by_document(company, term) == by_fields(company, term)


def test_a_term_never_matches_across_two_fields(lines):
    company, _rows = lines
    # "Jensen" ends the name and "+45" starts the number: together they are in no one field.
    assert by_document(company, "jensen+45") == by_document(company, "jensen +45") == set()
    assert SEARCH_DOCUMENT_SEPARATOR not in " ".join(f"a{SEARCH_DOCUMENT_SEPARATOR}b".split())


def test_the_document_follows_every_change_of_the_fields(lines):
    company, rows = lines
    anna = rows[0]
    anna.employee_name = "Anne Holm"
    anna.save()
    assert by_document(company, "holm") == {anna.pk}
    Subscription.objects.filter(pk=anna.pk).update(number="+45 31313131", employee_email="ah@ny.example")
    assert by_document(company, "3131") == {anna.pk} and by_document(company, "ny.ex") == {anna.pk}
    assert by_document(company, "anna") == set()


def test_the_list_and_the_order_forms_suggestions_search_through_it(lines):
    from orders.services import employee_suggestions

    company, rows = lines
    member = make_member(company)
    response = verified_client(member.user).get("/subscriptions/", {"q": "østerg"})
    assert "Åse Ærø Østergaard" in response.content.decode() and "Anna Jensen" not in response.content.decode()
    assert [line.pk for line in employee_suggestions(membership=member, text="ÆRØ")] == [rows[1].pk]
