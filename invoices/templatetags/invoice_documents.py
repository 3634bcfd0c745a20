"""``{% invoice_documents_box invoice [note=credit_note] %}``: the documents box on the invoice and credit
note pages (the same box the htmx fragment ``invoices:documents`` re-renders while a file is made)."""

from django import template

from invoices.documents_selectors import invoice_documents

register = template.Library()


@register.inclusion_tag("invoices/_documents_box.html")
def invoice_documents_box(invoice, note=None):
    return invoice_documents(invoice=invoice, note=note)
