"""The forms of the employee page: one per change, each turning its input into the change's params.

The rules themselves (what a line's state allows, scope, the catalogue) live in
``subscriptions.services``; a refusal from there is shown on the form as its error.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from selfcare.widgets import PlainSelect
from subscriptions.models import AddOn, BillingAccount, ChangeRequest, PricePlan, Subscription
from subscriptions.services import BlockReason

Action = ChangeRequest.Action


class ChangeForm(forms.Form):
    """Base: knows the subscription and the membership; ``change_kwargs`` gives the service's arguments."""

    action: str = ""
    title = ""
    submit_label = _("Send the change")

    def __init__(self, *args, subscription: Subscription, membership, **kwargs):
        kwargs.setdefault("prefix", self.action)
        super().__init__(*args, **kwargs)
        self.subscription = subscription
        self.membership = membership

    def change_kwargs(self) -> dict:
        return {"params": {}}


class BlockForm(ChangeForm):
    action = Action.BLOCK
    title = _("Block the SIM card")
    submit_label = _("Block")
    reason = forms.ChoiceField(label=_("Why"), choices=BlockReason.CHOICES, widget=forms.RadioSelect)

    def change_kwargs(self):
        return {"params": {"reason": self.cleaned_data["reason"]}}


class UnblockForm(ChangeForm):
    action = Action.UNBLOCK
    title = _("Unblock the SIM card")
    submit_label = _("Unblock")


class ChangePlanForm(ChangeForm):
    action = Action.CHANGE_PLAN
    title = _("Change price plan")
    plan = forms.ModelChoiceField(label=_("New price plan"), queryset=PricePlan.objects.none(),
                                  widget=PlainSelect)
    when = forms.ChoiceField(
        label=_("From"), widget=forms.RadioSelect, initial="now",
        choices=[("now", _("Now")), ("next_month", _("The 1st of next month"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = PricePlan.objects.filter(active=True, type=self.subscription.type).exclude(
            pk=self.subscription.plan_id
        )

    def change_kwargs(self):
        return {"params": {"plan_id": self.cleaned_data["plan"].pk, "when": self.cleaned_data["when"]}}


class AddAddOnForm(ChangeForm):
    action = Action.ADD_ADD_ON
    title = _("Add an add-on service")
    submit_label = _("Add")
    add_on = forms.ModelChoiceField(label=_("Add-on service"), queryset=AddOn.objects.none(), widget=PlainSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["add_on"].queryset = AddOn.objects.filter(active=True, type=self.subscription.type).exclude(
            pk__in=self.subscription.add_ons.values("pk")
        )

    def change_kwargs(self):
        return {"params": {"add_on_id": self.cleaned_data["add_on"].pk}}


class RemoveAddOnForm(ChangeForm):
    action = Action.REMOVE_ADD_ON
    title = _("Remove an add-on service")
    submit_label = _("Remove")
    add_on = forms.ModelChoiceField(label=_("Add-on service"), queryset=AddOn.objects.none(), widget=PlainSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["add_on"].queryset = self.subscription.add_ons.all()

    def change_kwargs(self):
        return {"params": {"add_on_id": self.cleaned_data["add_on"].pk}}


class ChangeSimForm(ChangeForm):
    action = Action.CHANGE_SIM
    title = _("Change SIM card")
    iccid = forms.CharField(
        label=_("ICCID of the spare SIM card"), max_length=30,
        help_text=_("The 19 or 20 digits printed on the card or on the eSIM's letter, starting with 89."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def change_kwargs(self):
        return {"params": {"iccid": self.cleaned_data["iccid"]}}


class MoveAccountForm(ChangeForm):
    action = Action.MOVE_ACCOUNT
    title = _("Move to another account number")
    submit_label = _("Move")
    account = forms.ModelChoiceField(label=_("Account number"), queryset=BillingAccount.objects.none(),
                                     widget=PlainSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = BillingAccount.objects.for_membership(self.membership).exclude(
            pk=self.subscription.account_id
        )

    def change_kwargs(self):
        return {"params": {"account_id": self.cleaned_data["account"].pk}}


class _DatedForm(ChangeForm):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_date(self):
        value = self.cleaned_data["date"]
        if value < timezone.localdate():
            raise forms.ValidationError(_("Choose a date that is today or later."))
        return value


class CancelForm(_DatedForm):
    action = Action.CANCEL
    title = _("Cancel the subscription")
    submit_label = _("Cancel the subscription")

    def change_kwargs(self):
        return {"params": {}, "effective_date": self.cleaned_data["date"]}


class TransferForm(_DatedForm):
    action = Action.TRANSFER
    title = _("Transfer to the employee as a private customer")
    submit_label = _("Transfer")
    name = forms.CharField(label=_("The employee's name"), max_length=150)
    email = forms.EmailField(label=_("Private e-mail"))
    street = forms.CharField(label=_("Street and number"), max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), max_length=10)
    city = forms.CharField(label=_("City"), max_length=100)
    field_order = ["name", "email", "street", "postal_code", "city", "date"]

    def change_kwargs(self):
        data = self.cleaned_data
        return {"params": {key: data[key] for key in ("name", "email", "street", "postal_code", "city")},
                "effective_date": data["date"]}


CHANGE_FORMS: dict[str, type[ChangeForm]] = {
    form.action: form
    for form in (BlockForm, UnblockForm, ChangePlanForm, AddAddOnForm, RemoveAddOnForm, ChangeSimForm,
                 MoveAccountForm, CancelForm, TransferForm)
}


class InvoiceNoteForm(forms.ModelForm):
    """The cost-centre text printed on the invoice: the portal's own data, changed at once."""

    class Meta:
        model = Subscription
        fields = ["invoice_note"]
        help_texts = {"invoice_note": _("Printed beside the line on the invoice, e.g. a cost centre.")}


class BillingAccountForm(forms.ModelForm):
    """An account's invoice settings: its name, where the invoice goes, and in which format."""

    # Longer than the 13 digits it keeps: people type it in groups ("5790 0001 2345 2").
    ean = forms.CharField(label=_("EAN (GLN)"), max_length=20, required=False,
                          widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
                          help_text=_("The 13-digit location number (GLN) of the customer's e-invoice inbox."))

    # Further addresses for invoices by e-mail (invoices.einvoice_signup; stored beside the account).
    more_emails = forms.CharField(
        label=_("More invoice e-mail addresses"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Each invoice's PDF also goes to these addresses: one per line, or separated by commas."))

    class Meta:
        model = BillingAccount
        fields = ["name", "email", "ean", "invoice_format"]
        labels = {"email": _("Invoice e-mail")}

    def __init__(self, *args, **kwargs):
        from invoices.einvoice_signup import extra_invoice_emails

        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["more_emails"] = "\n".join(extra_invoice_emails(self.instance))

    def clean_more_emails(self):
        from invoices.einvoice_signup import parse_invoice_emails

        return parse_invoice_emails(self.cleaned_data["more_emails"])

    def clean_ean(self):
        from stdnum import ean

        value = "".join(self.cleaned_data["ean"].split())
        if not value:
            return value
        if not (value.isdigit() and len(value) == 13):
            raise forms.ValidationError(_("An EAN (GLN) number has 13 digits."))
        if not ean.is_valid(value):
            raise forms.ValidationError(_("The check digit of this EAN number is wrong: check the number."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("invoice_format") == BillingAccount.InvoiceFormat.EAN and not data.get("ean"):
            self.add_error("ean", _("E-invoicing by EAN needs the EAN number."))
        if data.get("invoice_format") == BillingAccount.InvoiceFormat.PDF_EMAIL and not data.get("email"):
            self.add_error("email", _("Invoices by e-mail need the e-mail address."))
        return data


# --- bulk actions (subscriptions.bulk) --------------------------------------------------------------

class BulkChangeForm(forms.Form):
    """The confirmation of a bulk action: the action's details, the number of lines the page said
    (``expected``: when "all that match" counts differently now, the page says so again) and the
    form's one-time token (a double submit starts one job)."""

    action: str = ""
    token = forms.CharField(widget=forms.HiddenInput, max_length=64, min_length=16)
    expected = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership

    def params(self) -> dict:
        return {}


class BulkBlockForm(BulkChangeForm):
    action = Action.BLOCK
    reason = forms.ChoiceField(label=_("Why"), choices=BlockReason.CHOICES, widget=forms.RadioSelect)

    def params(self):
        return {"reason": self.cleaned_data["reason"]}


class BulkUnblockForm(BulkChangeForm):
    action = Action.UNBLOCK


class BulkChangePlanForm(BulkChangeForm):
    action = Action.CHANGE_PLAN
    plan = forms.ModelChoiceField(label=_("New price plan"), queryset=PricePlan.objects.none(), widget=PlainSelect,
                                  help_text=_("Lines of another kind than the plan's are not changed; the result "
                                              "says which."))
    when = forms.ChoiceField(
        label=_("From"), widget=forms.RadioSelect, initial="now",
        choices=[("now", _("Now")), ("next_month", _("The 1st of next month"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = PricePlan.objects.filter(active=True).order_by("type", "name")

    def params(self):
        return {"plan_id": self.cleaned_data["plan"].pk, "when": self.cleaned_data["when"]}


class BulkInvoiceNoteForm(BulkChangeForm):
    action = "invoice_note"
    invoice_note = forms.CharField(
        label=_("Invoice note"), max_length=Subscription._meta.get_field("invoice_note").max_length, required=False,
        help_text=_("Printed beside each line on the invoice, e.g. a cost centre. Leave it empty to remove the notes."),
    )

    def params(self):
        return {"invoice_note": self.cleaned_data["invoice_note"].strip()}


class BulkMoveAccountForm(BulkChangeForm):
    action = Action.MOVE_ACCOUNT
    account = forms.ModelChoiceField(label=_("New account number"), queryset=BillingAccount.objects.none(),
                                     widget=PlainSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = BillingAccount.objects.for_membership(self.membership).order_by("number")

    def params(self):
        return {"account_id": self.cleaned_data["account"].pk}


BULK_FORMS = {form.action: form for form in (BulkBlockForm, BulkUnblockForm, BulkChangePlanForm, BulkInvoiceNoteForm,
                                             BulkMoveAccountForm)}
