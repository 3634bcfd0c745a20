"""Cells of the list machinery (selfcare.lists): a column's value, linked or from its template."""

from django import template
from django.template.loader import render_to_string
from django.utils.formats import localize
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def list_cell(context, column, row):
    if column.template:
        return render_to_string(column.template, {"row": row, "column": column}, request=context.get("request"))
    # One getter per column and render (a choice column's labels are translated once, not per cell).
    getters = context.render_context.setdefault("list_cell_getters", {})
    getter = getters.get(column.key)
    if getter is None:
        getter = getters[column.key] = column.getter()
    value = getter(row)
    text = "–" if value in (None, "") else localize(value)
    if column.link is not None:
        return format_html('<a href="{}">{}</a>', column.link(row), text)
    return format_html("{}", text)


@register.simple_tag
def bulk_label(bulk, row):
    """The accessible name of a row's checkbox in a list's bulk selection."""
    from django.utils.translation import gettext

    return gettext("Select %(row)s") % {"row": bulk["labels"].get(row.pk, row.pk)}
