"""The operator's standard product catalogue (staff keep it in the back office): written by the demo
and a fresh installation, idempotent by name."""

from decimal import Decimal

from orders.models import ApprovalChain, ApprovalChainMember, Product

# name, area, one-off price (DKK excl. VAT), description
PRODUCTS = [
    ("SIM-kort", "mobile", "0.00", "A physical SIM card (triple cut) for a new or an existing subscription."),
    ("eSIM", "mobile", "0.00", "An eSIM profile, activated by scanning a QR code."),
    ("4G/5G-dongle", "data", "349.00", "A USB modem for mobile broadband on 4G and 5G."),
    ("Router 5G", "data", "1495.00", "A 5G router with Wi-Fi 6 for a small office."),
    ("iPhone 16 128 GB", "mobile", "6995.00", "Apple iPhone 16 with 128 GB storage."),
    ("Samsung Galaxy S25 128 GB", "mobile", "6495.00", "Samsung Galaxy S25 with 128 GB storage."),
    ("IP-telefon Yealink T54W", "fixed", "1295.00", "A desk IP phone for the fixed telephony solution."),
]


def products_ensure() -> list[Product]:
    products = []
    for name, area, price, description in PRODUCTS:
        product, _ = Product.objects.get_or_create(
            name=name, defaults={"area": area, "price": Decimal(price), "description": description})
        products.append(product)
    return products


def demo_chain(*, company, approvers) -> None:
    """A mobile approval chain for the demo company (only when it has none yet)."""
    chain, created = ApprovalChain.objects.get_or_create(company=company, area="mobile")
    if created:
        for position, user in enumerate(approvers, start=1):
            ApprovalChainMember.objects.create(company=company, chain=chain, position=position, approver=user)
