from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.forms.applications import ApplicationApproveForm, ApplicationRejectForm
from accounts.models import AccessApplication, AuditEvent, AuthenticatorApp, Company, Membership, SMSDevice, User
from accounts.services.applications import (
    ApplicationRefused,
    application_approval_refusal,
    application_approve,
    application_company_for,
    application_reject,
)
from accounts.templatetags.portal import phone


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["company", "role", "permissions", "all_accounts"]
    autocomplete_fields = ["company"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "mobile_display", "is_staff", "is_active", "last_login"]
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

    @admin.display(description=_("mobile"), ordering="mobile")
    def mobile_display(self, user):
        return phone(user.mobile)


class SubsidiaryInline(admin.TabularInline):
    model = Company
    fk_name = "parent"
    extra = 0
    fields = ["name", "registration_number", "city"]
    show_change_link = True
    can_delete = False


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "registration_display", "city", "parent"]
    list_filter = ["country"]
    search_fields = ["name", "registration_number"]
    autocomplete_fields = ["parent"]
    inlines = [SubsidiaryInline]

    @admin.display(description=_("CVR / organisation number"), ordering="registration_number")
    def registration_display(self, company):
        return company.registration


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "role", "all_accounts"]
    list_filter = ["role", "all_accounts"]
    search_fields = ["user__email", "user__full_name", "company__name"]
    autocomplete_fields = ["user", "company"]
    list_select_related = ["user", "company"]


@admin.register(SMSDevice)
class SMSDeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "number_display", "confirmed"]
    search_fields = ["user__email", "number"]
    exclude = ["token", "valid_until", "throttling_failure_timestamp", "throttling_failure_count"]

    @admin.display(description=_("mobile"), ordering="number")
    def number_display(self, device):
        return phone(device.number)


# django-otp's own admin has English-only labels and shows the secret key: replaced by the one below.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(AuthenticatorApp)
class AuthenticatorAppAdmin(admin.ModelAdmin):
    """Which logins use an authenticator app; staff remove a lost one (the login then gets codes by SMS)."""

    list_display = ["login", "app_name", "created", "last_used", "is_confirmed"]
    search_fields = ["user__email", "user__full_name"]
    list_select_related = ["user"]
    fields = readonly_fields = ["login", "app_name", "created", "last_used", "is_confirmed"]

    @admin.display(description=_("login"), ordering="user__email")
    def login(self, device):
        return device.user

    @admin.display(description=_("name"), ordering="name")
    def app_name(self, device):
        return device.name

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, device):
        return device.created_at

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used(self, device):
        return device.last_used_at

    @admin.display(description=_("confirmed"), boolean=True, ordering="confirmed")
    def is_confirmed(self, device):
        return device.confirmed

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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


@admin.register(AccessApplication)
class AccessApplicationAdmin(admin.ModelAdmin):
    """Applications for access (seed 002). Staff decide them with the two actions; the rows are read-only.

    Approve asks for the main address of a new company (looked up in the CVR register); reject asks for
    the reason that is e-mailed to the applicant. Both are intermediate pages of the action, like
    Django's own "delete selected".
    """

    list_display = ["created_at", "company_name", "country", "registration_display", "applicant_name", "email",
                    "mobile_display", "status", "decided_at", "decided_by"]
    list_filter = ["status", "country", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["company_name", "registration_number", "applicant_name", "email", "mobile"]
    list_select_related = ["decided_by"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AccessApplication._meta.fields]
    actions = ["approve_applications", "reject_applications"]

    @admin.display(description=_("CVR / organisation number"), ordering="registration_number")
    def registration_display(self, application):
        return application.registration

    @admin.display(description=_("mobile"), ordering="mobile")
    def mobile_display(self, application):
        return phone(application.mobile)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The actions need the change permission; a single application is only ever viewed, so every
        # decision goes through the services (audit log, letter, e-mail).
        return obj is None and super().has_change_permission(request)

    def _intermediate(self, request, template, title, **context):
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **context,
        })

    @admin.action(description=_("Approve the selected application"), permissions=["change"])
    def approve_applications(self, request, queryset):
        applications = list(queryset[:2])
        if len(applications) != 1:
            self.message_user(request, gettext(
                "Approve one application at a time: each new company needs its address from the CVR register."
            ), messages.ERROR)
            return None
        application = applications[0]
        if application.status != AccessApplication.Status.PENDING:
            self.message_user(request, gettext("The application from %(company)s has already been processed.")
                              % {"company": application.company_name}, messages.ERROR)
            return None
        company = application_company_for(application)
        refusal = application_approval_refusal(application, company)
        if refusal:
            self.message_user(request, refusal, messages.ERROR)
            return None
        confirmed = request.POST.get("confirm") == "yes"
        form = ApplicationApproveForm(request.POST if confirmed else None, country=application.country,
                                      address_needed=company is None)
        if confirmed and form.is_valid():
            try:
                approval = application_approve(application=application, actor=request.user, request=request,
                                               **form.cleaned_data)
            except ApplicationRefused as refused:
                self.message_user(request, refused.message, messages.ERROR)
                return None
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
                return None
            self.message_user(request, gettext(
                "Approved: %(email)s is the Superuser of %(company)s. The username and activation code have been "
                "sent to the digital mailbox of %(number)s."
            ) % {"email": approval.user.email, "company": approval.company.name,
                 "number": approval.company.registration}, messages.SUCCESS)
            return None
        return self._intermediate(
            request, "accounts/application_approve.html", gettext("Approve the application"),
            application=application, company=company, form=form,
        )

    @admin.action(description=_("Reject the selected applications"), permissions=["change"])
    def reject_applications(self, request, queryset):
        pending = list(queryset.filter(status=AccessApplication.Status.PENDING))
        if not pending:
            self.message_user(request, gettext("None of the selected applications is awaiting processing."),
                              messages.ERROR)
            return None
        confirmed = request.POST.get("confirm") == "yes"
        form = ApplicationRejectForm(request.POST if confirmed else None)
        if confirmed and form.is_valid():
            rejected = 0
            for application in pending:
                try:
                    application_reject(application=application, actor=request.user,
                                       reason=form.cleaned_data["reason"], request=request)
                except ApplicationRefused as refused:
                    self.message_user(request, refused.message, messages.ERROR)
                else:
                    rejected += 1
            if rejected:
                self.message_user(request, ngettext(
                    "%(count)d application rejected; the applicant has been told why by e-mail.",
                    "%(count)d applications rejected; the applicants have been told why by e-mail.",
                    rejected,
                ) % {"count": rejected}, messages.SUCCESS)
            return None
        return self._intermediate(
            request, "accounts/application_reject.html", gettext("Reject applications"),
            applications=pending, form=form,
        )
