from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
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
    """Applications for access (seed 002). The rows are read-only; staff decide them with Approve and
    Reject on the application's own page, or with the two actions of the list.

    Approve asks for the main address of a new company (looked up in the CVR register); reject asks for
    the reason that is e-mailed to the applicant. Both are intermediate pages, like Django's own "delete
    selected", and both ways in share them.
    """

    list_display = ["created_at", "company_name", "country", "registration_display", "applicant_name", "email",
                    "mobile_display", "status", "decided_at", "decided_by"]
    list_filter = ["status", "country", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["company_name", "registration_number", "applicant_name", "email", "mobile"]
    list_select_related = ["decided_by"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AccessApplication._meta.fields]
    actions = ["approve_applications", "reject_applications"]
    change_form_template = "admin/accounts/accessapplication/change_form.html"

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
        # Deciding needs the change permission; a single application is only ever viewed, so every
        # decision goes through the services (audit log, letter, e-mail).
        return obj is None and super().has_change_permission(request)

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        # Before the default ones: their "<path:object_id>/" would take these paths too.
        return [
            path("<path:object_id>/approve/", self.admin_site.admin_view(self.approve_view), name=f"{prefix}_approve"),
            path("<path:object_id>/reject/", self.admin_site.admin_view(self.reject_view), name=f"{prefix}_reject"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Approve and Reject show on a pending application, for staff who may decide.
        context["decidable"] = (obj is not None and obj.status == AccessApplication.Status.PENDING
                                and self.has_change_permission(request))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    # The application's own page -----------------------------------------------------------------

    def _application_to_decide(self, request, object_id) -> AccessApplication:
        if not self.has_change_permission(request):
            raise PermissionDenied
        application = self.get_object(request, unquote(object_id))
        if application is None:
            raise Http404
        return application

    def _url(self, name: str, *args) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args)

    def approve_view(self, request, object_id):
        application = self._application_to_decide(request, object_id)
        change_url = self._url("change", application.pk)
        response = self._approve_step(request, application, confirmed=request.method == "POST",
                                      cancel_url=change_url)
        return response or HttpResponseRedirect(change_url)

    def reject_view(self, request, object_id):
        application = self._application_to_decide(request, object_id)
        change_url = self._url("change", application.pk)
        response = self._reject_step(request, [application], confirmed=request.method == "POST",
                                     cancel_url=change_url)
        return response or HttpResponseRedirect(change_url)

    # The list's actions ---------------------------------------------------------------------------

    @admin.action(description=_("Approve the selected application"), permissions=["change"])
    def approve_applications(self, request, queryset):
        applications = list(queryset[:2])
        if len(applications) != 1:
            self.message_user(request, gettext(
                "Approve one application at a time: each new company needs its address from the CVR register."
            ), messages.ERROR)
            return None
        return self._approve_step(request, applications[0], confirmed=request.POST.get("confirm") == "yes",
                                  cancel_url=self._url("changelist"),
                                  action="approve_applications")

    @admin.action(description=_("Reject the selected applications"), permissions=["change"])
    def reject_applications(self, request, queryset):
        return self._reject_step(request, list(queryset), confirmed=request.POST.get("confirm") == "yes",
                                 cancel_url=self._url("changelist"),
                                 action="reject_applications")

    # The steps both share ---------------------------------------------------------------------------

    def _intermediate(self, request, template, title, **context):
        return TemplateResponse(request, template, {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            **context,
        })

    def _approve_step(self, request, application, *, confirmed: bool, cancel_url: str, action: str = ""):
        """The address step, then the approval. Returns the page to show, or None when there is nothing
        more to show (a message says what happened)."""
        if application.status != AccessApplication.Status.PENDING:
            self.message_user(request, gettext("The application from %(company)s has already been processed.")
                              % {"company": application.company_name}, messages.ERROR)
            return None
        company = application_company_for(application)
        refusal = application_approval_refusal(application, company)
        if refusal:
            self.message_user(request, refusal, messages.ERROR)
            return None
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
            application=application, company=company, form=form, action=action, cancel_url=cancel_url,
        )

    def _reject_step(self, request, applications, *, confirmed: bool, cancel_url: str, action: str = ""):
        """The reason step, then the rejection; returns the page to show, or None (see _approve_step)."""
        pending = [a for a in applications if a.status == AccessApplication.Status.PENDING]
        if not pending:
            self.message_user(request, gettext("None of the selected applications is awaiting processing."),
                              messages.ERROR)
            return None
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
            applications=pending, form=form, action=action, cancel_url=cancel_url,
        )
