from django import forms
from django.utils.translation import gettext_lazy as _

from groups.models import Group, GroupUpload
from groups.months import format_month, parse_month


class MonthInput(forms.TextInput):
    input_type = "month"

    def __init__(self, attrs=None):
        super().__init__({"placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}", **(attrs or {})})


class MonthField(forms.CharField):
    """A month written YYYY-MM (what ``<input type="month">`` sends); cleaned to its first day."""

    widget = MonthInput

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 7)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return format_month(value) if hasattr(value, "year") else value

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        month = parse_month(value)
        if month is None:
            raise forms.ValidationError(_("Write the month as YYYY-MM, for example 2027-01."))
        return month


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    monthly_budget = forms.DecimalField(
        label=_("Monthly budget (excl. VAT)"), max_digits=12, decimal_places=2, min_value=0, required=False,
        help_text=_("Optional. The group's contact and the Superusers get an e-mail when the month's estimate "
                    "passes 80 % and 100 % of it."))
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)


class _GroupChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.label


class MembershipAddForm(forms.Form):
    group = _GroupChoice(label=_("Group"), queryset=Group.objects.none(), empty_label=None)
    start_month = MonthField(label=_("From month"), help_text=_("YYYY-MM. From the account's opening month up "
                                                                 "to a year ahead."))
    end_month = MonthField(label=_("Until month (optional)"), required=False,
                           help_text=_("YYYY-MM, the last month in the group. Empty: until further notice."))

    def __init__(self, *args, groups=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups if groups is not None else Group.objects.none()


class MembershipMoveForm(forms.Form):
    group = _GroupChoice(label=_("New group"), queryset=Group.objects.none(), empty_label=None)
    month = MonthField(label=_("First month in the new group"),
                       help_text=_("YYYY-MM. The old membership of the category ends the month before."))

    def __init__(self, *args, groups=None, **kwargs):
        kwargs.setdefault("prefix", "move")  # beside the add form on the same page
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups if groups is not None else Group.objects.none()


class MembershipEndForm(forms.Form):
    end_month = MonthField(label=_("Until month"), required=False,
                           help_text=_("YYYY-MM, the last month in the group. Empty: until further notice."))


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("The workbook holds"), choices=GroupUpload.Kind.choices,
                             widget=forms.RadioSelect, initial=GroupUpload.Kind.ASSIGNMENTS)
    workbook = forms.FileField(label=_("Workbook (.xlsx)"))
