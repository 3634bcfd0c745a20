"""The operator's standard catalogue of price plans and add-on services.

Staff keep the catalogue in the back office; ``catalogue_ensure`` writes this standard set (idempotent,
by code) for the demo, the benchmark data and a fresh installation.
"""

from decimal import Decimal

from subscriptions.models import AddOn, PricePlan

# code, name, type, monthly fee (DKK excl. VAT), data GB, voice minutes, SMS (None: unlimited)
PRICE_PLANS = [
    ("mobil-basis-10", "Mobil Basis 10 GB", "mobile", "99.00", 10, None, None),
    ("mobil-fri-50", "Mobil Fri 50 GB", "mobile", "149.00", 50, None, None),
    ("mobil-fri-ubegraenset", "Mobil Fri Ubegrænset", "mobile", "229.00", None, None, None),
    ("mobil-tale-1000", "Mobil Tale 1000 min", "mobile", "79.00", 2, 1000, 500),
    ("fastnet-erhverv", "Fastnet Erhverv", "telephony", "129.00", None, None, None),
    ("fiber-1000", "Fiber 1000/1000", "internet", "449.00", None, None, None),
    ("mbb-200", "Mobilt bredbånd 200 GB", "internet", "199.00", 200, None, None),
    ("ethernet-1g", "Ethernet 1 Gbit/s", "circuit", "2495.00", None, None, None),
]

# code, name, type, monthly fee, description
ADD_ONS = [
    ("roaming-eu-plus", "Roaming EU+", "mobile", "49.00", "Data and calls in the EU, Norway, Switzerland and the UK."),
    ("ekstra-data-20", "Ekstra data 20 GB", "mobile", "59.00", "20 GB more data each month."),
    ("voicemail", "Telefonsvarer", "mobile", "0.00", "Voicemail with notification by SMS."),
    ("datadeling", "Datadeling", "mobile", "29.00", "A data SIM that shares the subscription's data."),
    ("omstilling", "Omstilling", "telephony", "39.00", "Call forwarding to a colleague or a group."),
    ("fast-ip", "Fast IP-adresse", "internet", "50.00", "A fixed public IPv4 address."),
]


def catalogue_ensure() -> dict[str, dict[str, int]]:
    """The standard plans and add-ons, by code: ``{"plans": {type: [ids]}, ...}`` for the seeders."""
    plans: dict[str, list[int]] = {}
    for code, name, type_, fee, data, voice, sms in PRICE_PLANS:
        plan, _ = PricePlan.objects.update_or_create(code=code, defaults=dict(
            name=name, type=type_, monthly_fee=Decimal(fee), data_gb=data, voice_minutes=voice, sms_count=sms,
        ))
        plans.setdefault(type_, []).append(plan.pk)
    add_ons: dict[str, list[int]] = {}
    for code, name, type_, fee, description in ADD_ONS:
        add_on, _ = AddOn.objects.update_or_create(code=code, defaults=dict(
            name=name, type=type_, monthly_fee=Decimal(fee), description=description,
        ))
        add_ons.setdefault(type_, []).append(add_on.pk)
    return {"plans": plans, "add_ons": add_ons}
