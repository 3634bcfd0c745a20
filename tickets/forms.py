"""The forms check the shape of the input; the rules (scope, the area's services and fields, the files) are
the services' (tickets.services), which say no with a message for the field."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import ProductArea
from subscriptions.models import BillingAccount, Connection, Subscription
from tickets.catalogue import CASE_SERVICES, FAULT_SYMPTOMS
from tickets.models import ContactMethod, SupportCase

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe); the content checks are tickets.attachments'."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def attachments_field():
    return MultipleFileField(label=_("Attachments (optional)"), help_text=_(
        "PDF, images, text or CSV files, or office documents; up to 5 files of at most 10 MB each."))


class LookupMixin:
    """Text fields naming a subscription (number), connection (circuit id) or account (number), looked
    up within the login's scope: one outside it reads as "not found", like one that does not exist."""

    def _lookup(self, model, field: str, value: str, message):
        value = " ".join((value or "").split())
        if not value:
            return None
        queryset = model.objects.for_membership(self.membership)
        found = queryset.filter(**{field: value}).first()
        if found is None and model is Subscription:
            compact = value.replace(" ", "")
            found = queryset.filter(number__in=[compact, f"+45{compact}", f"+46{compact}"]).first()
        if found is None:
            raise forms.ValidationError(message)
        return found


class CaseForm(LookupMixin, forms.Form):
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    area = forms.ChoiceField(label=_("Product area"), choices=[("", _("Choose a product area"))] + ProductArea.choices)
    service = forms.ChoiceField(label=_("Service"), help_text=_("Choose a service of the product area."),
                                error_messages={"invalid_choice": _(
                                    "This service is not one of the chosen product area's services: choose one "
                                    "from the list.")})
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), max_length=10000, widget=forms.Textarea(attrs={"rows": 6}),
                                  help_text=_("Make the case clear: say your framework agreement number and price "
                                              "plan where they matter."))
    subscription_number = forms.CharField(label=_("Subscription number (optional)"), required=False, max_length=32)
    circuit_id = forms.CharField(label=_("Connection's circuit id (optional)"), required=False, max_length=40)
    account_number = forms.CharField(label=_("Account number (optional)"), required=False, max_length=20)
    on_behalf_of = forms.TypedChoiceField(label=_("On behalf of a colleague (optional)"), required=False,
                                          coerce=int, empty_value=None,
                                          help_text=_("The colleague follows the case too and gets its e-mails."))
    contact_name = forms.CharField(label=_("Contact person"), max_length=150)
    contact_email = forms.EmailField(label=_("Contact e-mail"))
    contact_phone = forms.CharField(label=_("Contact phone"), required=False, max_length=20)
    contact_method = forms.ChoiceField(label=_("How to contact you"), choices=ContactMethod.choices,
                                       widget=forms.RadioSelect, initial=ContactMethod.EMAIL)
    extra_contact_name = forms.CharField(label=_("Extra contact person (optional)"), required=False, max_length=150)
    extra_contact_email = forms.EmailField(label=_("Extra contact's e-mail"), required=False,
                                           help_text=_("Gets the case's e-mails too."))
    extra_contact_phone = forms.CharField(label=_("Extra contact's phone"), required=False, max_length=20)
    attachments = attachments_field()

    def __init__(self, *args, membership, colleagues, locked: dict | None = None, case: SupportCase | None = None,
                 **kwargs):
        self.membership = membership
        self.locked = locked or {}
        given = kwargs.pop("initial", None) or {}
        if case is not None:
            initial = {name: getattr(case, name) for name in (
                "area", "service", "subject", "description", "contact_name", "contact_email", "contact_phone",
                "contact_method", "extra_contact_name", "extra_contact_email", "extra_contact_phone")}
            initial.update(idempotency_key=case.idempotency_key, on_behalf_of=case.on_behalf_of_id,
                           subscription_number=case.subscription.number if case.subscription else "",
                           circuit_id=case.connection.circuit_id if case.connection else "",
                           account_number=case.account.number if case.account and not (
                               case.subscription or case.connection) else "")
        else:
            user = membership.user
            initial = {"idempotency_key": uuid.uuid4(), "contact_name": user.full_name, "contact_email": user.email,
                       "contact_phone": user.mobile}
        super().__init__(*args, initial={**initial, **given}, **kwargs)
        # The service list is the chosen product area's only (chosen first, by the "Choose" button without
        # JavaScript, or updated in place by htmx); a service of another area is refused as not in the list.
        self.area = self.chosen_area()
        service = self.fields["service"]
        if self.area:
            service.choices = [("", _("Choose a service"))] + CASE_SERVICES[self.area]
        else:
            service.choices = [("", _("Choose the product area first"))]
            service.help_text = _("Choose the product area first: its services are then listed here.")
        self.fields["on_behalf_of"].choices = [("", _("Nobody: it is my own case"))] + colleagues
        # Started from a subscription's, connection's or account's page: that one, and not to be changed.
        for name in ("subscription_number", "circuit_id", "account_number"):
            if self.locked:
                del self.fields[name]

    def chosen_area(self) -> str:
        """The product area the form is filled in for: the one sent, else the one it starts with."""
        value = self.data.get(self.add_prefix("area")) if self.is_bound else self.initial.get("area")
        return value if value in ProductArea.values else ""

    def clean(self):
        cleaned = super().clean()
        if self.locked:
            cleaned.update({key: self.locked.get(key) for key in ("subscription", "connection", "account")})
            return cleaned
        try:
            cleaned["subscription"] = self._lookup(Subscription, "number", cleaned.get("subscription_number"),
                                                   _("No subscription with this number that you have access to."))
        except forms.ValidationError as error:
            self.add_error("subscription_number", error)
        try:
            cleaned["connection"] = self._lookup(Connection, "circuit_id", cleaned.get("circuit_id"),
                                                 _("No connection with this circuit id that you have access to."))
        except forms.ValidationError as error:
            self.add_error("circuit_id", error)
        try:
            cleaned["account"] = self._lookup(BillingAccount, "number", cleaned.get("account_number"),
                                              _("No account with this number that you have access to."))
        except forms.ValidationError as error:
            self.add_error("account_number", error)
        return cleaned

    def service_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in (
            "area", "service", "subject", "description", "contact_name", "contact_email", "contact_phone",
            "contact_method", "extra_contact_name", "extra_contact_email", "extra_contact_phone", "on_behalf_of")}
        for key in ("subscription", "connection", "account"):
            value = self.cleaned_data.get(key)
            data[key] = value.pk if value is not None else None
        return data


class FaultTargetForm(LookupMixin, forms.Form):
    """From the menu: which subscription or connection has the fault."""

    number = forms.CharField(label=_("Subscription number or circuit id"), max_length=40,
                             help_text=_("The number of the mobile or fixed line, or the connection's circuit id."))

    def __init__(self, *args, membership, **kwargs):
        self.membership = membership
        super().__init__(*args, **kwargs)

    def clean_number(self):
        value = self.cleaned_data["number"]
        message = _("No subscription or connection with this number that you have access to.")
        try:
            return self._lookup(Subscription, "number", value, message)
        except forms.ValidationError:
            return self._lookup(Connection, "circuit_id", value, message)


class FaultReportForm(forms.Form):
    """The fault report's fields for the target's product area (tickets.catalogue.FAULT_SYMPTOMS)."""

    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)
    symptom = forms.ChoiceField(label=_("What does not work"))
    started_at = forms.DateTimeField(label=_("Since when"), required=False,
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                format="%Y-%m-%dT%H:%M"),
                                     input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"])
    location = forms.CharField(label=_("Where"), required=False, max_length=200,
                               help_text=_("An address, a town or an area, indoors or outdoors."))
    equipment_restarted = forms.TypedChoiceField(label=_("Has the equipment (router, modem) been restarted?"),
                                                 choices=YES_NO, widget=forms.RadioSelect, required=False,
                                                 coerce=lambda value: value == "yes", empty_value=None)
    description = forms.CharField(label=_("Description"), required=False, max_length=10000,
                                  widget=forms.Textarea(attrs={"rows": 5}),
                                  help_text=_("What happens, what you have tried, error messages."))
    contact_name = forms.CharField(label=_("Contact person"), max_length=150)
    contact_email = forms.EmailField(label=_("Contact e-mail"), help_text=_("Updates on the fault come here."))
    contact_phone = forms.CharField(label=_("Contact phone"), required=False, max_length=20)
    attachments = attachments_field()

    AREA_FIELDS = {
        ProductArea.MOBILE: ("symptom", "started_at", "location"),
        ProductArea.FIXED: ("symptom",),
        ProductArea.DATA: ("symptom", "started_at", "equipment_restarted"),
    }

    def __init__(self, *args, membership, area: str, **kwargs):
        user = membership.user
        kwargs["initial"] = {"idempotency_key": uuid.uuid4(), "contact_name": user.full_name,
                             "contact_email": user.email, "contact_phone": user.mobile, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.area = area
        self.fields["symptom"].choices = [("", _("Choose"))] + FAULT_SYMPTOMS[area]
        if area == ProductArea.DATA:
            self.fields["symptom"].label = _("Symptom")
            self.fields["started_at"].label = _("When did it start")
        if area == ProductArea.FIXED:
            self.fields["symptom"].label = _("Symptom")
        for name in ("started_at", "location", "equipment_restarted"):
            if name not in self.AREA_FIELDS[area]:
                del self.fields[name]

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in (
            "symptom", "started_at", "location", "equipment_restarted", "description", "contact_name",
            "contact_email", "contact_phone")}


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Message"), max_length=10000, required=False,
                           widget=forms.Textarea(attrs={"rows": 4}))
    attachments = attachments_field()


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Why it is not solved (optional)"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class OperatorReplyForm(forms.Form):
    """The back office's reply: a message to the customer (or an internal note), files, a new status."""

    body = forms.CharField(label=_("Message"), required=False, max_length=10000,
                           widget=forms.Textarea(attrs={"rows": 5}))
    internal = forms.BooleanField(label=_("Internal note (the customer never sees it)"), required=False)
    to = forms.ChoiceField(label=_("New status"), required=False)
    attachments = attachments_field()

    def __init__(self, *args, item, **kwargs):
        super().__init__(*args, **kwargs)
        model = type(item)
        choices = [(value, label) for value, label in model.Status.choices
                   if value in model.OPERATOR_STATUSES and model.workflow.allowed(item.status, value)]
        self.fields["to"].choices = [("", _("Keep: %(status)s") % {"status": item.get_status_display()})] + choices


class AssignForm(forms.Form):
    assigned_to = forms.TypedChoiceField(label=_("Assigned to"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].choices = [("", _("Nobody"))] + [
            (user.pk, user.full_name or user.email) for user in staff]

