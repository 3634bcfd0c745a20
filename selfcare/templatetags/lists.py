"""Cells of the list machinery (selfcare.lists): a column's value, linked or from its template."""

from django import template
from django.template.loader import render_to_string
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

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


@register.simple_tag(takes_context=True)
def list_rows(context, rows, columns, bulk=None):
    """The table's body rows, written here rather than by a template loop per row and cell (50 rows of 8
    cells cost a list page ~20 ms in the template engine): each cell labelled with its column for the
    phone's cards, as ``components/list_results.html`` documents; ``bulk``: a tick box per row first."""
    labels = [conditional_escape(str(column.label)) for column in columns]
    getters = context.render_context.setdefault("list_cell_getters", {})
    cells = []
    for column in columns:
        if column.template:
            cells.append(lambda row, column=column: list_cell(context, column, row))
            continue
        getter = getters.get(column.key)
        if getter is None:
            getter = getters[column.key] = column.getter()
        cells.append(_plain_cell(getter, column.link))
    select = conditional_escape(gettext("Select")) if bulk else ""
    lines = []
    for row in rows:
        parts = ['<tr role="row">']
        if bulk:
            parts.append(f'<td role="cell" data-label="{select}" class="bulk-form__tick"><div class="table__value">'
                         f'<input type="checkbox" name="bulk_ids" value="{conditional_escape(row.pk)}" '
                         f'aria-label="{bulk_label(bulk, row)}"></div></td>')
        for label, cell in zip(labels, cells, strict=True):
            parts.append(f'<td role="cell" data-label="{label}"><div class="table__value">{cell(row)}</div></td>')
        parts.append("</tr>")
        lines.append("".join(parts))
    return mark_safe("\n".join(lines))


def _plain_cell(getter, link):
    """A cell's HTML from its value (and link), as ``list_cell`` writes it."""
    def cell(row):
        value = getter(row)
        text = conditional_escape("–" if value in (None, "") else localize(value))
        if link is not None:
            return f'<a href="{conditional_escape(link(row))}">{text}</a>'
        return text
    return cell


@register.simple_tag
def bulk_label(bulk, row):
    """The accessible name of a row's checkbox in a list's bulk selection."""
    return conditional_escape(gettext("Select %(row)s") % {"row": bulk["labels"].get(row.pk, row.pk)})
