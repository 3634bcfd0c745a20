import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import MAX_QUANTITY, Order, OrderChange, Product, ProductArea
from orders.services import delivery_address_initial
from selfcare.widgets import PlainSelect
from subscriptions.models import BillingAccount, Subscription


class OrderForm(forms.Form):
    """The order form. It checks the shape of the input; the rules (an active product, an employee and
    an account in the login's scope, the country's postal code) are the service's (orders.services)."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.all(),
                                     empty_label=_("Choose a product"))
    for_new_user = forms.TypedChoiceField(
        label=_("For whom"), widget=forms.RadioSelect, coerce=lambda value: value == "new", initial="existing",
        choices=[("existing", _("An existing user")), ("new", _("A new user"))],
    )
    employee_search = forms.CharField(
        label=_("Employee"), required=False, max_length=100,
        help_text=_("Type part of the name, number or e-mail, then choose from the suggestions."),
    )
    subscription = forms.IntegerField(required=False, widget=forms.HiddenInput)
    employee_name = forms.CharField(label=_("The new user's name"), required=False, max_length=150)
    account = forms.ModelChoiceField(label=_("Account number"), queryset=BillingAccount.objects.none(),
                                     required=False, empty_label=_("Choose an account number"),
                                     help_text=_("The new user's subscription and the order are billed here."))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1,
                                  error_messages={
                                      "min_value": _("Enter a quantity from 1 to %(limit_value)s.") % {
                                          "limit_value": MAX_QUANTITY},
                                      "max_value": _("Enter a quantity from 1 to %(limit_value)s."),
                                  })
    delivery_name = forms.CharField(label=_("Recipient (optional)"), required=False, max_length=150)
    delivery_street = forms.CharField(label=_("Street and number"), max_length=200)
    delivery_postal_code = forms.CharField(label=_("Postal code"), max_length=10)
    delivery_city = forms.CharField(label=_("City"), max_length=100)
    contact_name = forms.CharField(label=_("Contact person"), max_length=150)
    contact_email = forms.EmailField(label=_("Contact e-mail"))
    contact_phone = forms.CharField(label=_("Contact phone"), required=False, max_length=20)
    contact_method = forms.ChoiceField(label=_("How to contact you"), choices=Order.ContactMethod.choices,
                                       widget=forms.RadioSelect, initial=Order.ContactMethod.EMAIL)
    extra_contact_name = forms.CharField(label=_("Extra contact person (optional)"), required=False, max_length=150)
    extra_contact_email = forms.EmailField(label=_("Extra contact's e-mail"), required=False)
    extra_contact_phone = forms.CharField(label=_("Extra contact's phone"), required=False, max_length=20)
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    is_quote = forms.BooleanField(
        label=_("Ask for a quote first"), required=False,
        help_text=_("For anything outside your framework agreement: the operator prices it, and you accept or "
                    "decline the price before it becomes an order."))

    def __init__(self, *args, membership, order: Order | None = None, **kwargs):
        self.membership = membership
        if order is not None:
            kwargs.setdefault("initial", {}).update(_initial_from(order))
        else:
            user = membership.user
            kwargs.setdefault("initial", {})
            kwargs["initial"] = {
                "idempotency_key": uuid.uuid4(), "contact_name": user.full_name, "contact_email": user.email,
                "contact_phone": user.mobile, **delivery_address_initial(membership.company), **kwargs["initial"],
            }
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = BillingAccount.objects.for_membership(membership).order_by("number")
        # Withdrawn products are not offered; one sent anyway (an old page) gets the service's message.
        self.fields["product"].widget.choices = [("", _("Choose a product"))] + [
            (product.pk, f"{product.name} ({product.get_area_display()})")
            for product in Product.objects.filter(active=True).order_by("area", "name")
        ]
        self.fields["delivery_postal_code"].help_text = (
            _("4 digits, for example 2100.") if membership.company.country == "DK"
            else _("5 digits, for example 113 51.")
        )
        self.fields["employee_search"].widget.attrs.update({
            "role": "combobox", "aria-autocomplete": "list", "aria-expanded": "false",
            "aria-controls": "employee-suggestions", "autocomplete": "off", "data-combobox": "",
        })
        self.selected_subscription = None
        subscription_id = self["subscription"].value()
        if subscription_id and str(subscription_id).isdigit():
            self.selected_subscription = (Subscription.objects.for_membership(membership)
                                          .filter(pk=subscription_id).first())

    def clean_delivery_postal_code(self):
        from accounts.services.profile import postal_code_normalise

        return postal_code_normalise(self.membership.company.country, self.cleaned_data["delivery_postal_code"])

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("employee_search", None)
        return data


def _initial_from(order: Order) -> dict:
    initial = {name: getattr(order, name) for name in (
        "quantity", "delivery_name", "delivery_street", "delivery_postal_code", "delivery_city", "contact_name",
        "contact_email", "contact_phone", "contact_method", "extra_contact_name", "extra_contact_email",
        "extra_contact_phone", "note", "employee_name", "is_quote")}
    initial.update(idempotency_key=order.idempotency_key, product=order.product_id,
                   for_new_user="new" if order.for_new_user else "existing",
                   subscription=order.subscription_id, account=order.account_id,
                   employee_search=order.employee_name if order.subscription_id else "")
    return initial


class DecisionForm(forms.Form):
    step = forms.IntegerField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))])
    reason = forms.CharField(label=_("Reason (needed to reject)"), required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ChainChangeForm(forms.Form):
    action = forms.ChoiceField(choices=[("add", "add"), ("replace", "replace"), ("remove", "remove")])
    position = forms.IntegerField(required=False, min_value=1, max_value=5)
    approver = forms.IntegerField(label=_("Approver"), required=False)



class AbsenceForm(forms.Form):
    stand_in = forms.TypedChoiceField(label=_("Stand-in"), coerce=int,
                                      help_text=_("A colleague who holds “Approve orders”."))
    starts_on = forms.DateField(label=_("Away from"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Away until"), widget=forms.DateInput(attrs={"type": "date"}),
                              help_text=_("The last day of the absence."))

    def __init__(self, *args, membership, instance=None, **kwargs):
        from orders.services import approver_choices

        if instance is not None:
            kwargs.setdefault("initial", {"stand_in": instance.stand_in_id, "starts_on": instance.starts_on,
                                          "ends_on": instance.ends_on})
        super().__init__(*args, **kwargs)
        self.fields["stand_in"].choices = [
            (user.pk, f"{user.full_name} ({user.email})")
            for user in approver_choices(company_id=membership.company_id) if user.pk != membership.user_id
        ]


class ChangeOrderForm(forms.Form):
    """The change form: the fields of the chosen kind and the contact details. What the change is about
    is not a field: it is the page's (shown, fixed). The form checks the shape of the input; the rules
    are orders.changes' (which reuse the employee page's and the account page's)."""

    KIND_FIELDS = {
        "plan": ("plan", "plan_when"),
        "add_on": ("add_on",),
        "address": ("street", "postal_code", "city"),
        "contact": ("new_contact_name", "new_contact_email", "new_contact_phone"),
        "billing": ("invoice_email", "ean", "invoice_format"),
        "other": ("description",),
    }

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    area = forms.ChoiceField(label=_("Product area"), required=False, choices=ProductArea.choices,
                             help_text=_("Whose approval chain decides on the change."))
    plan = forms.ChoiceField(label=_("New price plan"), required=False, widget=PlainSelect)
    plan_when = forms.ChoiceField(label=_("From"), required=False, widget=forms.RadioSelect,
                                  choices=OrderChange.When.choices, initial=OrderChange.When.NOW)
    add_on = forms.ChoiceField(label=_("Add-on service"), required=False, widget=PlainSelect)
    street = forms.CharField(label=_("Street and number"), required=False, max_length=200)
    postal_code = forms.CharField(label=_("Postal code"), required=False, max_length=10)
    city = forms.CharField(label=_("City"), required=False, max_length=100)
    new_contact_name = forms.CharField(label=_("Name"), required=False, max_length=150)
    new_contact_email = forms.EmailField(label=_("E-mail"), required=False)
    new_contact_phone = forms.CharField(label=_("Phone"), required=False, max_length=20)
    invoice_email = forms.EmailField(label=_("Invoice e-mail"), required=False)
    ean = forms.CharField(label=_("EAN (GLN)"), max_length=20, required=False,
                          widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
                          help_text=_("The 13-digit location number (GLN) of the customer's e-invoice inbox."))
    invoice_format = forms.ChoiceField(label=_("Invoice format"), required=False,
                                       choices=BillingAccount.InvoiceFormat.choices, widget=PlainSelect)
    description = forms.CharField(label=_("What should be changed"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    wished_date = forms.DateField(label=_("Wished date (optional)"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    contact_name = forms.CharField(label=_("Contact person"), max_length=150)
    contact_email = forms.EmailField(label=_("Contact e-mail"))
    contact_phone = forms.CharField(label=_("Contact phone"), required=False, max_length=20)
    contact_method = forms.ChoiceField(label=_("How to contact you"), choices=Order.ContactMethod.choices,
                                       widget=forms.RadioSelect, initial=Order.ContactMethod.EMAIL)
    extra_contact_name = forms.CharField(label=_("Extra contact person (optional)"), required=False, max_length=150)
    extra_contact_email = forms.EmailField(label=_("Extra contact's e-mail"), required=False)
    extra_contact_phone = forms.CharField(label=_("Extra contact's phone"), required=False, max_length=20)
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, membership, subject, kind: str, order: Order | None = None, **kwargs):
        from orders.changes import change_data
        from subscriptions.forms import AddAddOnForm, ChangePlanForm, RemoveAddOnForm

        self.subject, self.kind = subject, kind
        user = membership.user
        initial = {"idempotency_key": uuid.uuid4(), "contact_name": user.full_name, "contact_email": user.email,
                   "contact_phone": user.mobile}
        account = subject.account
        if kind == "billing":
            initial.update(invoice_email=account.email, ean=account.ean, invoice_format=account.invoice_format)
        elif kind == "address" and subject.connection is not None:
            connection = subject.connection
            initial.update(street=connection.street, postal_code=connection.postal_code, city=connection.city)
        if order is not None:
            initial.update({key: value for key, value in change_data(order).items() if value not in (None, "")},
                           idempotency_key=order.idempotency_key)
        kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        subscription = subject.subscription
        if subscription is not None:
            # The employee page's choices for the same changes.
            plans = ChangePlanForm(subscription=subscription, membership=membership).fields["plan"].queryset
            self.fields["plan"].choices = [("", _("Choose a price plan"))] + [(p.pk, p.name) for p in plans]
            adding = AddAddOnForm(subscription=subscription, membership=membership).fields["add_on"].queryset
            removing = RemoveAddOnForm(subscription=subscription, membership=membership).fields["add_on"].queryset
            self.fields["add_on"].choices = [("", _("Choose an add-on service"))] + [
                (_("Add"), [(f"add:{a.pk}", a.name) for a in adding]),
                (_("Remove"), [(f"remove:{a.pk}", a.name) for a in removing]),
            ]
        self.fields["postal_code"].help_text = (
            _("4 digits, for example 2100.") if membership.company.country == "DK"
            else _("5 digits, for example 113 51.")
        )
        if kind == "contact" and subject.subject == "subscription":
            self.fields["new_contact_name"].label = _("The employee's name")
            self.fields["new_contact_email"].label = _("The employee's e-mail")

    def kind_fields(self):
        return [self[name] for name in self.KIND_FIELDS.get(self.kind, ())]

    def service_data(self) -> dict:
        data = {name: value for name, value in self.cleaned_data.items() if name != "idempotency_key"}
        data["wished_date"] = data["wished_date"].isoformat() if data.get("wished_date") else ""
        return data


class ChangeSubjectForm(forms.Form):
    """The menu's way in: which subscription (the employee combobox) or account the change is about."""

    employee_search = forms.CharField(
        label=_("Employee"), required=False, max_length=100,
        help_text=_("Type part of the name, number or e-mail, then choose from the suggestions."))
    subscription = forms.IntegerField(required=False, widget=forms.HiddenInput)
    account = forms.ModelChoiceField(label=_("Account number"), queryset=BillingAccount.objects.none(),
                                     required=False, empty_label=_("Choose an account number"), widget=PlainSelect)

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = BillingAccount.objects.for_membership(membership).order_by("number")
