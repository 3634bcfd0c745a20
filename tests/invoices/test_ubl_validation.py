"""The validation harness itself: the official valid examples pass, and the deliberately broken ones fail
with the rule ids they were broken for (a harness that cannot fail would prove nothing)."""

import json
from pathlib import Path

import pytest

from invoices.peppol.validation import validate_ubl, validator

EXAMPLES = Path(__file__).parent / "peppol_examples"
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())


def example(relative: str) -> bytes:
    return (EXAMPLES / relative.removeprefix("examples/")).read_bytes()


VALID = sorted(name for name, rules in EXPECTED.items() if not rules)
INVALID = sorted(name for name, rules in EXPECTED.items() if rules)


@pytest.mark.parametrize("name", VALID)
def test_official_valid_examples_have_no_fatal_finding(name):
    report = validate_ubl(example(name))
    assert report.doctype in {"Invoice", "CreditNote"}
    assert report.ok, [str(finding) for finding in report.fatal]


@pytest.mark.parametrize("name", INVALID)
def test_deliberately_broken_examples_fail_with_their_rules(name):
    report = validate_ubl(example(name))
    assert not report.ok
    assert report.xsd_checked  # lxml is a dependency: the UBL 2.1 schema is always checked
    expected = set(EXPECTED[name])
    assert expected <= report.fatal_rules, sorted(report.fatal_rules)


def test_the_valid_set_covers_an_invoice_a_credit_note_and_both_countries():
    assert len(VALID) >= 12 and len(INVALID) >= 13
    kinds = {validate_ubl(example(name)).doctype for name in VALID}
    assert kinds == {"Invoice", "CreditNote"}


def test_not_ubl_and_not_xml_are_fatal():
    assert validate_ubl(b"<html/>").fatal_rules == {"NOT-UBL-INVOICE-OR-CREDITNOTE"}
    assert validate_ubl(b"<Invoice").fatal_rules == {"NOT-WELL-FORMED"}


def test_the_stylesheets_are_compiled_once_per_process():
    assert validator() is validator()
