"""The step-by-step guide for a new subscription (``orders.guide``): one page per step, plain forms
(no JavaScript needed), the answers kept in the session between the steps."""

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.permissions import Permission
from accounts.views_base import PortalTemplateView
from orders.guide import STEP_TITLES, STEPS, GuideDraft, guide_order_save, guide_step_clean
from orders.guide_forms import step_form
from orders.models import NewSubscription, Order
from orders.services import OrderRefused
from subscriptions.models import AddOn, BillingAccount, PricePlan


def _step_url(step: str) -> str:
    return f"{reverse('orders:guide')}?step={step}"


def _add_errors(form, refusal: OrderRefused) -> None:
    for field, errors in refusal.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class SubscriptionGuideView(PortalTemplateView):
    required_permission = Permission.ORDER_PRODUCTS
    template_name = "orders/guide.html"

    def current_step(self, draft: GuideDraft) -> str:
        step = self.request.GET.get("step") or self.request.POST.get("step") or ""
        if step not in STEPS:
            step = draft.first_missing() or STEPS[-1]
        missing = draft.first_missing()
        if missing is not None and STEPS.index(step) > STEPS.index(missing):
            step = missing  # a step cannot be skipped
        return step

    def get(self, request, *args, **kwargs):
        draft = GuideDraft(request.session)
        step = self.current_step(draft)
        if request.GET.get("step") and request.GET["step"] != step:
            return redirect(_step_url(step))
        return self.render_to_response(self.context(draft, step))

    def context(self, draft: GuideDraft, step: str, *, form=None, refusal=None) -> dict:
        context = self.get_context_data()
        index = STEPS.index(step)
        context.update(
            step=step, step_title=STEP_TITLES[step], step_number=index + 1, step_count=len(STEPS),
            steps=[{"key": key, "title": STEP_TITLES[key], "done": key in draft.data["steps"], "current": key == step,
                    "link": _step_url(key) if key in draft.data["steps"] else ""} for key in STEPS],
            previous=STEPS[index - 1] if index else None,
        )
        if step == "summary":
            context["summary"] = self.summary(draft)
        else:
            if form is None:
                typed = draft.data.get("typed", {}).get(step)
                values = typed if typed is not None else draft.step(step)
                if step == "sim" and not values:
                    from orders.services import delivery_address_initial

                    values = {name: value for name, value in delivery_address_initial(self.membership.company).items()
                              if name.startswith("delivery_") and name != "delivery_name"}
                form = step_form(step, membership=self.membership, data=_querydict(values), draft=draft.merged())
            context["form"] = form
        return context

    def summary(self, draft: GuideDraft) -> list[tuple[str, str, str]]:
        answers = draft.merged()
        plan = PricePlan.objects.filter(pk=answers.get("plan")).first()
        add_ons = AddOn.objects.filter(pk__in=answers.get("add_ons", [])).order_by("name")
        account = BillingAccount.objects.for_membership(self.membership).filter(pk=answers.get("account")).first()
        sim = dict(NewSubscription.Sim.choices).get(answers.get("sim"), "")
        if answers.get("sim") == NewSubscription.Sim.SPARE:
            sim = f"{sim}: {answers.get('iccid')}"
        number = dict(NewSubscription.NumberChoice.choices).get(answers.get("number_choice"), "")
        if answers.get("number_choice") == NewSubscription.NumberChoice.PORT:
            number = _("%(number)s from %(operator)s, on %(date)s") % {
                "number": answers.get("port_number"), "operator": answers.get("port_operator"),
                "date": answers.get("port_date")}
        employee = answers.get("employee_name", "")
        if answers.get("employee_email"):
            employee = f"{employee} ({answers['employee_email']})"
        delivery = " ".join(answers.get(name, "") for name in ("delivery_street", "delivery_postal_code",
                                                                 "delivery_city"))
        return [
            ("employee", STEP_TITLES["employee"], employee),
            ("plan", STEP_TITLES["plan"], f"{plan.get_type_display()}: {plan.name}" if plan else ""),
            ("add_ons", STEP_TITLES["add_ons"], ", ".join(a.name for a in add_ons) or _("None")),
            ("sim", STEP_TITLES["sim"], f"{sim}; {_('delivery to')} {delivery}"),
            ("account", STEP_TITLES["account"], str(account) if account else ""),
            ("number", STEP_TITLES["number"], number),
            ("start", STEP_TITLES["start"], answers.get("start_date", "")),
        ]

    def post(self, request, *args, **kwargs):
        draft = GuideDraft(request.session)
        step = request.POST.get("step", "")
        if step not in STEPS:
            return redirect(_step_url(self.current_step(draft)))
        action = request.POST.get("action", "next")
        if step == "summary":
            return self.finish(draft, submit=action == "submit")
        index = STEPS.index(step)
        typed = {key: (request.POST.getlist(key) if key == "add_ons" else value)
                 for key, value in request.POST.items() if key not in ("csrfmiddlewaretoken", "step", "action")}
        if key_missing := ("add_ons" if step == "add_ons" and "add_ons" not in request.POST else None):
            typed[key_missing] = []
        if action == "back":
            # Kept as typed (checked when the step is sent on); the step before is shown.
            draft.data.setdefault("typed", {})[step] = typed
            draft.save_step_typed()
            return redirect(_step_url(STEPS[max(index - 1, 0)]))
        if action == "refresh":  # the plan step without JavaScript: the plans of the type just chosen
            typed.pop("plan", None)
            draft.data.setdefault("typed", {})[step] = typed
            draft.save_step_typed()
            return redirect(_step_url(step))
        try:
            values = guide_step_clean(membership=self.membership, step=step, data=request.POST, draft=draft.merged())
        except OrderRefused as refusal:
            form = step_form(step, membership=self.membership, data=request.POST, draft=draft.merged())
            _add_errors(form, refusal)
            return self.render_to_response(self.context(draft, step, form=form), status=200)
        draft.data.get("typed", {}).pop(step, None)
        draft.save_step(step, values)
        if step == "plan":
            # Add-ons of another type no longer fit: that step is asked again.
            kept = draft.step("add_ons").get("add_ons")
            if kept and set(kept) - set(AddOn.objects.filter(type=values["type"]).values_list("pk", flat=True)):
                draft.data["steps"].pop("add_ons", None)
                draft.save_step_typed()
        return redirect(_step_url(draft.first_missing() or STEPS[index + 1]))

    def finish(self, draft: GuideDraft, *, submit: bool):
        try:
            order, created = guide_order_save(membership=self.membership, draft=draft, submit=submit,
                                              request=self.request)
        except OrderRefused as refusal:
            step = getattr(refusal, "step", None)
            if step:
                messages.error(self.request, _("Please check this step again: %(message)s") % {
                    "message": " ".join(refusal.messages)})
                return redirect(_step_url(step))
            messages.error(self.request, " ".join(refusal.messages))
            return redirect(_step_url("summary"))
        draft.clear()
        if not created:
            messages.info(self.request, _("This form had already been sent: here is the order it made."))
        elif order.status == Order.Status.DRAFT:
            messages.success(self.request, _("The order is saved as a draft. You can change it and send it later."))
        elif order.status == Order.Status.AWAITING_APPROVAL:
            messages.success(self.request, _("The order is sent for approval."))
        else:
            messages.success(self.request, _("The order is sent to the operator."))
        return redirect(reverse("orders:detail", args=[order.pk]))


def _querydict(values: dict) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in (values or {}).items():
        if isinstance(value, list):
            data.setlist(key, [str(item) for item in value])
        elif value is not None:
            data[key] = str(value)
    return data
