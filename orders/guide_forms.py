"""The guide's forms: one per step. They show the fields and what was typed; the rules are the
service's (``orders.guide.guide_step_clean``), whose messages are put beside the fields."""

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.guide import add_ons_for, plans_for, spare_sims, types_offered
from orders.models import NewSubscription
from subscriptions.models import BillingAccount


def _fee(item) -> str:
    return _("%(name)s (%(fee)s a month)") % {"name": item.name, "fee": item.monthly_fee}


class EmployeeStep(forms.Form):
    employee_name = forms.CharField(label=_("The employee's name"), required=False, max_length=150)
    employee_email = forms.CharField(label=_("The employee's e-mail (optional)"), required=False, max_length=254,
                                     widget=forms.EmailInput(attrs={"autocomplete": "off"}))


class PlanStep(forms.Form):
    type = forms.ChoiceField(label=_("Type of subscription"), required=False, widget=forms.RadioSelect)
    plan = forms.ChoiceField(label=_("Price plan"), required=False, widget=forms.RadioSelect)

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        offered = types_offered()
        self.fields["type"].choices = offered
        chosen = self["type"].value() or (offered[0][0] if offered else "")
        self.chosen_type = chosen
        self.fields["plan"].choices = [(str(plan.pk), _fee(plan)) for plan in plans_for(chosen)]
        self.fields["plan"].help_text = _("The plans for the type chosen above. After changing the type, "
                                          "press “Show the plans for this type”.")


class AddOnsStep(forms.Form):
    add_ons = forms.MultipleChoiceField(label=_("Add-on services (optional)"), required=False,
                                        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, membership, type_: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["add_ons"].choices = [(str(add_on.pk), _fee(add_on)) for add_on in add_ons_for(type_)]


class SimStep(forms.Form):
    sim = forms.ChoiceField(label=_("SIM card"), required=False, widget=forms.RadioSelect,
                            choices=NewSubscription.Sim.choices)
    iccid = forms.CharField(label=_("ICCID of the spare SIM card"), required=False, max_length=30,
                            help_text=_("Only for a spare SIM card: the 19 or 20 digits printed on the card."))
    delivery_street = forms.CharField(label=_("Street and number"), required=False, max_length=200)
    delivery_postal_code = forms.CharField(label=_("Postal code"), required=False, max_length=10)
    delivery_city = forms.CharField(label=_("City"), required=False, max_length=100)

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.spare_count = spare_sims(membership.company_id).count()
        self.fields["delivery_postal_code"].help_text = (
            _("4 digits, for example 2100.") if membership.company.country == "DK"
            else _("5 digits, for example 113 51."))


class AccountStep(forms.Form):
    account = forms.ChoiceField(label=_("Account number"), required=False,
                                help_text=_("The new subscription is billed on this account."))

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", _("Choose an account number"))] + [
            (str(account.pk), f"{account.number} {account.name}")
            for account in BillingAccount.objects.for_membership(membership).order_by("number")]


class NumberStep(forms.Form):
    number_choice = forms.ChoiceField(label=_("Number"), required=False, widget=forms.RadioSelect,
                                      choices=NewSubscription.NumberChoice.choices)
    port_number = forms.CharField(label=_("Number to take over"), required=False, max_length=32,
                                  widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    port_operator = forms.CharField(label=_("Current operator"), required=False, max_length=100)
    port_date = forms.CharField(label=_("Wished porting date"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))


class StartStep(forms.Form):
    start_date = forms.CharField(label=_("Start date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


STEP_FORMS = {"employee": EmployeeStep, "plan": PlanStep, "add_ons": AddOnsStep, "sim": SimStep,
              "account": AccountStep, "number": NumberStep, "start": StartStep}


def step_form(step: str, *, membership, data, draft: dict):
    form_class = STEP_FORMS[step]
    kwargs = {}
    if form_class not in (EmployeeStep, NumberStep, StartStep):
        kwargs["membership"] = membership
    if form_class is AddOnsStep:
        kwargs["type_"] = draft.get("type", "")
    form = form_class(data, **kwargs)
    form.is_valid()
    form.errors.clear()  # the service's messages only
    return form
