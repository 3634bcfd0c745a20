"""The choices the case and fault report forms offer, per product area (the seed: "Produkt", then "Tjänst")."""

from django.utils.translation import gettext_lazy as _

from orders.models import ProductArea
from subscriptions.models import SubscriptionType

CASE_SERVICES = {
    ProductArea.MOBILE: [
        ("subscription", _("Subscription and price plan")),
        ("sim", _("SIM card and eSIM")),
        ("roaming", _("Roaming and abroad")),
        ("number_porting", _("Number porting")),
        ("invoice", _("Invoice and charges")),
        ("other", _("Something else")),
    ],
    ProductArea.FIXED: [
        ("switchboard", _("Switchboard and queues")),
        ("number", _("Numbers and number series")),
        ("moving", _("Moving a line")),
        ("invoice", _("Invoice and charges")),
        ("other", _("Something else")),
    ],
    ProductArea.DATA: [
        ("internet", _("Internet access")),
        ("vpn", _("IP VPN and MPLS")),
        ("equipment", _("Router and equipment")),
        ("moving", _("Moving a connection")),
        ("invoice", _("Invoice and charges")),
        ("other", _("Something else")),
    ],
}

FAULT_SYMPTOMS = {
    ProductArea.MOBILE: [
        ("calls", _("Calls do not work")),
        ("sms", _("Text messages do not arrive or go out")),
        ("data", _("Mobile data does not work")),
        ("coverage", _("Poor or no coverage")),
        ("voicemail", _("Voicemail does not work")),
        ("other", _("Something else")),
    ],
    ProductArea.FIXED: [
        ("no_tone", _("No dial tone")),
        ("incoming", _("Incoming calls do not arrive")),
        ("outgoing", _("Outgoing calls fail")),
        ("quality", _("Noise or poor sound")),
        ("other", _("Something else")),
    ],
    ProductArea.DATA: [
        ("down", _("No connection at all")),
        ("slow", _("Slow or unstable connection")),
        ("packet_loss", _("Packet loss or high latency")),
        ("vpn", _("VPN sites cannot reach each other")),
        ("other", _("Something else")),
    ],
}

# The product area a subscription's or connection's fault belongs to.
SUBSCRIPTION_AREA = {
    SubscriptionType.MOBILE: ProductArea.MOBILE,
    SubscriptionType.TELEPHONY: ProductArea.FIXED,
    SubscriptionType.INTERNET: ProductArea.DATA,
    SubscriptionType.CIRCUIT: ProductArea.DATA,
}


def service_label(area: str, service: str) -> str:
    return str(dict(CASE_SERVICES.get(area, [])).get(service, service))


def symptom_label(area: str, symptom: str) -> str:
    return str(dict(FAULT_SYMPTOMS.get(area, [])).get(symptom, symptom))


def all_services():
    seen = {}
    for choices in CASE_SERVICES.values():
        for value, label in choices:
            seen.setdefault(value, label)
    return list(seen.items())


def all_symptoms():
    seen = {}
    for choices in FAULT_SYMPTOMS.values():
        for value, label in choices:
            seen.setdefault(value, label)
    return list(seen.items())
