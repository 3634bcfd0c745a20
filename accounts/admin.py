from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent, Company, Membership, SMSDevice, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["company", "role", "permissions", "all_accounts"]
    autocomplete_fields = ["company"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "mobile", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_active", "language"]
    search_fields = ["email", "full_name", "mobile"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["full_name", "mobile", "language"]}),
        (_("Access"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Second factor"), {"fields": ["second_factor_failures", "second_factor_locked_until"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "full_name", "mobile", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]


class SubsidiaryInline(admin.TabularInline):
    model = Company
    fk_name = "parent"
    extra = 0
    fields = ["name", "registration_number", "city"]
    show_change_link = True
    can_delete = False


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "registration_number", "city", "parent"]
    list_filter = ["country"]
    search_fields = ["name", "registration_number"]
    autocomplete_fields = ["parent"]
    inlines = [SubsidiaryInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "role", "all_accounts"]
    list_filter = ["role", "all_accounts"]
    search_fields = ["user__email", "user__full_name", "company__name"]
    autocomplete_fields = ["user", "company"]
    list_select_related = ["user", "company"]


@admin.register(SMSDevice)
class SMSDeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "number", "confirmed"]
    search_fields = ["user__email", "number"]
    exclude = ["token", "valid_until", "throttling_failure_timestamp", "throttling_failure_count"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Staff see the whole log, read-only."""

    list_display = ["created_at", "company", "actor_label", "action", "target_label", "ip_address"]
    list_filter = ["action", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["actor_label", "target_label", "company__name"]
    list_select_related = ["company"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
