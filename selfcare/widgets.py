"""Form widgets (and a filter) that render the same HTML as Django's, faster where a page has many options."""

import django_filters
from django import forms
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import mark_safe


class PlainSelect(forms.Select):
    """A ``<select>`` whose options are written in Python instead of one template include per option.

    The same markup as ``django/forms/widgets/select.html`` (name, attributes, optgroups, ``selected``).
    A list's filter of 250 account numbers cost most of the page's time through the template engine
    (one ``select_option.html`` render per option), on every page and htmx fragment. The options are
    written straight from the choices, without the option dictionaries of ``optgroups()`` (their
    attributes, copies and ``flatatt`` per option were still ~4 ms a list page).
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = forms.Widget.get_context(self, name, value, attrs)["widget"]
        if self.allow_multiple_selected:
            widget["attrs"]["multiple"] = True
        wanted = widget["value"]  # format_value(): the selected values as strings
        multiple = self.allow_multiple_selected
        parts = [format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))]
        has_selected = False

        def option(option_value, label):
            nonlocal has_selected
            text = str(option_value)
            selected = (not has_selected or multiple) and text in wanted
            has_selected |= selected
            flag = " selected" if selected else ""
            return f'<option value="{escape(text)}"{flag}>{conditional_escape(label)}</option>'

        for option_value, option_label in self.choices:
            if option_value is None:
                option_value = ""
            if isinstance(option_label, (list, tuple)):
                if option_value:
                    parts.append(format_html('<optgroup label="{}">', option_value))
                parts.extend(option(subvalue, sublabel) for subvalue, sublabel in option_label)
                if option_value:
                    parts.append("</optgroup>")
            else:
                parts.append(option(option_value, option_label))
        parts.append("</select>")
        return mark_safe("\n".join(parts))


class FetchedModelChoiceIterator(django_filters.fields.ModelChoiceIterator):
    """The same choices (the empty one, django-filter's null one, then the rows) from one plain query.

    Django's iterator reads the rows through ``queryset.iterator()``: on PostgreSQL a server-side cursor,
    DECLARE, FETCH until empty and CLOSE, on every list page for each select (250 account numbers)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class FetchedModelChoiceField(django_filters.fields.ModelChoiceField):
    iterator = FetchedModelChoiceIterator


class FetchedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """``ModelChoiceFilter`` whose options are read in one query (see FetchedModelChoiceIterator): for a
    filter bar's select of a few hundred rows, shown on every page."""

    field_class = FetchedModelChoiceField
