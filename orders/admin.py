from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from orders.models import Order, OrderChange, OrderEvent, Product
from orders.services import operator_moves, order_operator_move, quote_price


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "price", "active"]
    list_filter = ["area", "active"]
    search_fields = ["name", "description"]
    actions = ["withdraw"]

    @admin.action(description=_("Withdraw the selected products"), permissions=["change"])
    def withdraw(self, request, queryset):
        queryset.update(active=False)


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ["at", "actor_label", "from_status", "to_status", "kind", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class OrderChangeInline(admin.StackedInline):
    """What a change asks for (read-only: staff carry it out, then complete the change)."""

    model = OrderChange
    extra = 0
    can_delete = False
    fk_name = "order"
    exclude = ["company"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in OrderChange._meta.fields if field.name != "company"]

    def has_add_permission(self, request, obj=None):
        return False


class OrderMoveForm(forms.Form):
    to = forms.ChoiceField(label=_("Move to"))
    tracking_number = forms.CharField(label=_("Tracking number"), required=False, max_length=60,
                                      help_text=_("Needed when the order is shipped."))
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Needed to reject the order; the customer reads it. For a quote: the "
                                         "offer's terms."))
    unit_price = forms.DecimalField(label=_("Price per unit"), required=False, max_digits=10, decimal_places=2,
                                    min_value=0, help_text=_("For a quote: the price offered."))

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        moves = operator_moves(order)
        choices = [(to, label) for to, label in Order.Status.choices if to in moves and order.status in moves[to]]
        if order.status == Order.Status.QUOTE_REQUESTED:  # staff price a quote (or reject it)
            choices.insert(0, (Order.Status.QUOTE_OFFERED, Order.Status.QUOTE_OFFERED.label))
        self.fields["to"].choices = choices


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """The operator's work on orders: every status change goes through the order's status machine
    (the move form on the order's page), never by editing the status field."""

    list_display = ["__str__", "company", "product", "quantity", "status", "created_at"]
    list_filter = ["status", "area", "is_change"]
    search_fields = ["company__name", "employee_name", "product__name", "tracking_number"]
    list_select_related = ["company", "product"]
    readonly_fields = [field.name for field in Order._meta.fields]
    inlines = [OrderChangeInline, OrderEventInline]
    change_form_template = "admin/orders/order/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [path("<path:object_id>/move/", self.admin_site.admin_view(self.move_view), name=f"{prefix}_move"),
                *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.has_change_permission(request, obj):
            move_form = OrderMoveForm(order=obj)
            context["move_form"] = move_form if move_form.fields["to"].choices else None
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def move_view(self, request, object_id):
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        form = OrderMoveForm(request.POST, order=order)
        if not form.is_valid():
            self.message_user(request, _("Choose a status the order can move to."), messages.ERROR)
            return HttpResponseRedirect(change_url)
        try:
            if form.cleaned_data["to"] == Order.Status.QUOTE_OFFERED:
                order = quote_price(staff=request.user, order_id=order.pk, unit_price=form.cleaned_data["unit_price"],
                                    note=form.cleaned_data["reason"], request=request)
            else:
                order = order_operator_move(staff=request.user, order_id=order.pk, to=form.cleaned_data["to"],
                                            tracking_number=form.cleaned_data["tracking_number"],
                                            reason=form.cleaned_data["reason"], request=request)
        except ValidationError as refusal:
            for message in refusal.messages:
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(request, _("The order is now: %(status)s.") % {"status": order.get_status_display()},
                              messages.SUCCESS)
        return HttpResponseRedirect(change_url)
