"""Validate a UBL 2.1 Invoice or CreditNote against the official rules.

Three checks, in the order the Peppol network applies them: the UBL 2.1 schema, the EN 16931 UBL
rules, the Peppol BIS Billing 3.0 rules (which carry the Danish DK-R-* and Swedish SE-R-* rules).
The rules are compiled Schematron (XSLT 3.0, run by SaxonC-HE); their SVRL report is parsed into
findings with the rule id, its flag (fatal or warning) and its text.

Compiling the 0.9 MB EN 16931 stylesheet takes about a second, so the stylesheets are compiled once per
process (``validator()``) and reused; SaxonC's executables are not documented as safe to share between
threads, so one lock serialises the transforms.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
RULESETS = (
    ("EN16931", HERE / "xslt" / "CEN-EN16931-UBL.xslt"),
    ("PEPPOL", HERE / "xslt" / "PEPPOL-EN16931-UBL.xslt"),
)
SCHEMAS = {
    "Invoice": HERE / "xsd" / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd",
    "CreditNote": HERE / "xsd" / "ubl-2.1" / "maindoc" / "UBL-CreditNote-2.1.xsd",
}
ROOTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": "Invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": "CreditNote",
}
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@dataclass(frozen=True)
class Finding:
    source: str  # XML | XSD | EN16931 | PEPPOL
    rule: str  # e.g. BR-CO-15, PEPPOL-EN16931-R003, DK-R-014
    flag: str  # fatal | warning
    text: str
    location: str = ""

    @property
    def is_fatal(self) -> bool:
        return self.flag == "fatal"

    def __str__(self):
        return f"{self.flag} {self.rule}: {self.text} ({self.location})"


@dataclass
class ValidationReport:
    doctype: str = ""
    findings: list[Finding] = field(default_factory=list)
    xsd_checked: bool = False

    @property
    def fatal(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.is_fatal]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.is_fatal]

    @property
    def ok(self) -> bool:
        return not self.fatal

    @property
    def fatal_rules(self) -> set[str]:
        return {finding.rule for finding in self.fatal}


def _parse_svrl(svrl: str, source: str) -> list[Finding]:
    findings = []
    for element in ET.fromstring(svrl.encode("utf-8")).iter():
        if element.tag not in (SVRL + "failed-assert", SVRL + "successful-report"):
            continue
        text_element = element.find(SVRL + "text")
        text = " ".join((text_element.text or "").split()) if text_element is not None else ""
        # An assertion without a flag counts as fatal: the conservative reading.
        flag = (element.get("flag") or "fatal").strip().lower()
        findings.append(Finding(source, element.get("id") or "(no id)", flag, text, element.get("location") or ""))
    return findings


class Validator:
    def __init__(self):
        from saxonche import PySaxonProcessor

        self._processor = PySaxonProcessor(license=False)
        xslt = self._processor.new_xslt30_processor()
        self._executables = [
            (label, xslt.compile_stylesheet(stylesheet_file=str(path))) for label, path in RULESETS
        ]
        self._schemas = {}
        self._lock = threading.Lock()

    def _schema(self, doctype):
        from lxml import etree

        if doctype not in self._schemas:
            self._schemas[doctype] = etree.XMLSchema(etree.parse(str(SCHEMAS[doctype])))
        return self._schemas[doctype]

    def _check_schema(self, data: bytes, report: ValidationReport) -> None:
        try:
            from lxml import etree
        except ImportError:  # SaxonC-HE cannot validate schemas; see README.md
            return
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        document = etree.fromstring(data, parser)
        schema = self._schema(report.doctype)
        if not schema.validate(document):
            for error in schema.error_log:
                report.findings.append(Finding("XSD", "UBL-2.1-XSD", "fatal", error.message, f"line {error.line}"))
        report.xsd_checked = True

    def validate(self, document: bytes | str) -> ValidationReport:
        from saxonche import PySaxonApiError

        data = document.encode("utf-8") if isinstance(document, str) else document
        report = ValidationReport()
        try:
            root = ET.fromstring(data)
        except ET.ParseError as error:
            report.findings.append(Finding("XML", "NOT-WELL-FORMED", "fatal", str(error)))
            return report
        report.doctype = ROOTS.get(root.tag, "")
        if not report.doctype:
            report.findings.append(Finding("XML", "NOT-UBL-INVOICE-OR-CREDITNOTE", "fatal", root.tag))
            return report
        with self._lock:
            self._check_schema(data, report)
            try:
                node = self._processor.parse_xml(xml_text=data.decode("utf-8"))
            except PySaxonApiError as error:
                report.findings.append(Finding("XML", "NOT-WELL-FORMED", "fatal", str(error)))
                return report
            for label, executable in self._executables:
                try:
                    svrl = executable.transform_to_string(xdm_node=node)
                except PySaxonApiError as error:
                    # e.g. a rule casting a malformed amount ("12,50") to xs:decimal
                    report.findings.append(Finding(label, "XSLT-DYNAMIC-ERROR", "fatal", " ".join(str(error).split())))
                    continue
                if svrl is None:
                    report.findings.append(Finding(label, "XSLT-ERROR", "fatal", "the rules produced no report"))
                    continue
                report.findings.extend(_parse_svrl(svrl, label))
        return report


_validator: Validator | None = None
_validator_lock = threading.Lock()


def validator() -> Validator:
    """The process's validator, compiled on first use."""
    global _validator
    with _validator_lock:
        if _validator is None:
            _validator = Validator()
        return _validator


def validate_ubl(document: bytes | str) -> ValidationReport:
    """Schema + EN 16931 + Peppol BIS 3 findings of one UBL Invoice or CreditNote."""
    return validator().validate(document)
