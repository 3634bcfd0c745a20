from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django_otp.models import SideChannelDevice, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum.dk import cvr
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.se import orgnr

from accounts.permissions import ALL_PERMISSIONS, Role
from accounts.validators import normalise_registration_number, validate_mobile


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("A login needs an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A login. Customer logins reach companies through memberships; staff (is_staff) use the back office."""

    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("name"), max_length=150)
    mobile = models.CharField(
        _("mobile"), max_length=20, blank=True, validators=[validate_mobile],
        help_text=_("Used for two-factor sign-in."),
    )
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, default="da")
    is_active = models.BooleanField(pgettext_lazy("login", "active"), default=True)
    is_staff = models.BooleanField(_("operator employee"), default=False, help_text=_("Works for the operator and may use the back office."))
    date_joined = models.DateTimeField(_("created"), default=timezone.now)
    # Wrong second-factor codes in a row; at the limit the login is refused codes until locked_until.
    second_factor_failures = models.PositiveSmallIntegerField(_("wrong second-factor codes in a row"), default=0)
    second_factor_locked_until = models.DateTimeField(_("second factor locked until"), null=True, blank=True)
    # Part of the session hash: bumping it signs the login out of every session
    # (accounts.services.profile.sessions_end_others keeps the current one).
    session_generation = models.PositiveIntegerField(_("session generation"), default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("login")
        verbose_name_plural = _("logins")
        ordering = ["full_name", "email"]
        # Sign-in and password reset look e-mails up case-insensitively (UPPER(email) = UPPER(%s)).
        indexes = [models.Index(Upper("email"), name="user_email_upper_idx")]

    def __str__(self):
        return f"{self.full_name} <{self.email}>"

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def _get_session_auth_hash(self, secret=None):
        # Django's hash covers the password only; the generation lets a login end its other
        # sessions without changing the password.
        return salted_hmac(
            "accounts.User.session_auth_hash", f"{self.password}:{self.session_generation}",
            secret=secret, algorithm="sha256",
        ).hexdigest()


class Country(models.TextChoices):
    DENMARK = "DK", _("Denmark")
    SWEDEN = "SE", _("Sweden")


class RegistrationNumberDisplay:
    """How a registration number is shown: label and format follow the company's country, not the reader's
    language ("CVR 25800036" for Denmark, "Org.nr 556677-8899" for Sweden). For models with ``country``
    and ``registration_number``; every page, letter, e-mail and back-office list shows it this way."""

    REGISTRATION_LABELS = {
        "DK": pgettext_lazy("Danish company registration number", "CVR"),
        "SE": pgettext_lazy("Swedish company registration number", "Org.nr"),
    }

    @property
    def registration_label(self) -> str:
        return str(self.REGISTRATION_LABELS.get(self.country, _("CVR / organisation number")))

    @property
    def registration_number_display(self) -> str:
        value = self.registration_number or ""
        try:
            if self.country == "SE":
                return orgnr.format(value)
            if self.country == "DK":
                return cvr.compact(value)
        except StdnumError:
            pass
        return value

    @property
    def registration(self) -> str:
        return f"{self.registration_label} {self.registration_number_display}"


class Company(RegistrationNumberDisplay, models.Model):
    """The tenant: a legal entity with a CVR (DK) or organisation number (SE)."""

    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, choices=Country.choices, default=Country.DENMARK)
    registration_number = models.CharField(
        _("CVR / organisation number"), max_length=12,
        help_text=_("Danish CVR number or Swedish organisation number."),
    )
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=10)
    city = models.CharField(_("city"), max_length=100)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent company"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="subsidiaries",
    )
    delivery_street = models.CharField(_("delivery street and number"), max_length=200, blank=True)
    delivery_postal_code = models.CharField(_("delivery postal code"), max_length=10, blank=True)
    delivery_city = models.CharField(_("delivery city"), max_length=100, blank=True)
    status_emails = models.BooleanField(
        _("send status e-mails"), default=True,
        help_text=_("E-mail the creator and the contact person when an order or case changes status."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["country", "registration_number"], name="company_unique_registration"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.registration_number:
            try:
                self.registration_number = normalise_registration_number(self.country, self.registration_number)
            except ValidationError as error:
                raise ValidationError({"registration_number": error.messages}) from None
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A company cannot be its own parent.")})

    @property
    def address_lines(self):
        return [self.street, f"{self.postal_code} {self.city}"]

    @property
    def delivery_address_lines(self):
        """Where orders go: the delivery address when one is set, else the main address."""
        if self.delivery_street:
            return [self.delivery_street, f"{self.delivery_postal_code} {self.delivery_city}"]
        return self.address_lines


class Membership(models.Model):
    """A login's access to one company: its role, permissions and account scope."""

    user = models.ForeignKey(User, verbose_name=_("login"), on_delete=models.CASCADE, related_name="memberships")
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.READ_ONLY)
    permissions = ArrayField(
        # No choices here: the catalogue grows with later issues without a migration each time;
        # clean() checks the codes against it.
        models.CharField(max_length=50), default=list, blank=True,
        verbose_name=_("permissions"),
    )
    all_accounts = models.BooleanField(_("all account numbers"), default=True)
    accounts = models.ManyToManyField(
        "subscriptions.BillingAccount", blank=True, related_name="memberships",
        verbose_name=_("account numbers"),
        help_text=_("Used only when the login does not have access to all account numbers."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("A deactivated login keeps its settings but cannot use this company."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When the login last switched to this company: a new sign-in starts in the newest one.
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["company__name"]
        constraints = [models.UniqueConstraint(fields=["user", "company"], name="membership_unique_user_company")]

    def __str__(self):
        return f"{self.user} @ {self.company}"

    def clean(self):
        super().clean()
        unknown = set(self.permissions) - ALL_PERMISSIONS
        if unknown:
            raise ValidationError({"permissions": _("Unknown permission.")})

    def has_permission(self, permission: str) -> bool:
        return permission in self.permissions


class SMSDevice(TimestampMixin, ThrottlingMixin, SideChannelDevice):
    """A one-time code sent by SMS to the login's registered mobile.

    django-otp's SideChannelDevice keeps the code with an expiry and clears it when used, so a code
    works once; ThrottlingMixin slows down repeated failures on this device.
    """

    number = models.CharField(_("mobile"), max_length=20, validators=[validate_mobile])
    # django-otp's fields, again with labels the back office can translate (the package has none).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("login"), on_delete=models.CASCADE,
        help_text=_("The login that signs in with codes sent to this mobile."),
    )
    name = models.CharField(_("name"), max_length=64)
    confirmed = models.BooleanField(_("confirmed"), default=True, help_text=_("Only a confirmed device is used."))
    created_at = models.DateTimeField(_("created"), null=True, blank=True, auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta(SideChannelDevice.Meta):
        verbose_name = _("SMS device")
        verbose_name_plural = _("SMS devices")

    def get_throttle_factor(self):
        return settings.SMS_CODE_THROTTLE_FACTOR

    def generate_challenge(self, extra_context=None):
        from selfcare.outbox.services import outbox_enqueue_sms

        self.generate_token(valid_secs=settings.SMS_CODE_VALIDITY_SECONDS)
        minutes = settings.SMS_CODE_VALIDITY_SECONDS // 60
        outbox_enqueue_sms(
            to=self.number,
            body=ngettext(
                "Your Selfcare code is %(code)s. It expires in %(minutes)d minute.",
                "Your Selfcare code is %(code)s. It expires in %(minutes)d minutes.",
                minutes,
            )
            % {"code": self.token, "minutes": minutes},
        )
        return _("We have sent a code to your mobile.")

    def verify_token(self, token):
        verify_allowed, _details = self.verify_is_allowed()
        if not verify_allowed:
            return False
        verified = super().verify_token(token)
        if verified:
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
        else:
            self.throttle_increment()
        return verified

    def masked_number(self):
        return f"{self.number[:3]} •••• {self.number[-2:]}"


class AuthenticatorApp(TOTPDevice):
    """django-otp's authenticator-app device under a name the back office can translate."""

    class Meta:
        proxy = True
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")


class AccessApplication(RegistrationNumberDisplay, models.Model):
    """A company's application for access to Selfcare, filled in without a login (seed 002)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting processing")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    country = models.CharField(_("country"), max_length=2, choices=Country.choices, default=Country.DENMARK)
    registration_number = models.CharField(_("CVR / organisation number"), max_length=12)
    company_name = models.CharField(_("company name"), max_length=200)
    applicant_name = models.CharField(_("applicant"), max_length=150)
    email = models.EmailField(_("e-mail"))
    mobile = models.CharField(_("mobile"), max_length=20, validators=[validate_mobile])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        User, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="access_applications",
    )
    user = models.ForeignKey(
        User, verbose_name=_("login"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("application for access")
        verbose_name_plural = _("applications for access")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "-created_at"], name="application_status_idx")]

    def __str__(self):
        return f"{self.company_name} ({self.registration})"


class ActivationToken(models.Model):
    """A single-use, expiring secret that lets a new login set its password and second factor.

    Two kinds: the activation code in the digital-mailbox letter after an approved application, and
    the link in a colleague's invitation e-mail. Only a hash is stored.
    """

    class Kind(models.TextChoices):
        LETTER_CODE = "letter_code", _("Activation code by digital mail")
        INVITATION = "invitation", _("Invitation by e-mail")

    user = models.ForeignKey(User, verbose_name=_("login"), on_delete=models.CASCADE, related_name="activation_tokens")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    token_hash = models.CharField(_("hash of the code"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("activation")
        verbose_name_plural = _("activations")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.user}"


class AuditEvent(models.Model):
    """Who did what, when, in which company, with the values before and after."""

    class Action(models.TextChoices):
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Failed sign-in")
        LOCKED_OUT = "locked_out", _("Locked out")
        SECOND_FACTOR_FAILED = "second_factor_failed", _("Wrong second-factor code")
        SIGN_OUT = "sign_out", _("Signed out")
        LOGIN_CREATED = "login_created", _("Login created")
        LOGIN_ACTIVATED = "login_activated", _("Login activated")
        LOGIN_CHANGED = "login_changed", _("Login changed")
        ACCESS_CHANGED = "access_changed", _("Role, permissions or account numbers changed")
        LOGIN_DEACTIVATED = "login_deactivated", _("Login deactivated")
        LOGIN_REACTIVATED = "login_reactivated", _("Login reactivated")
        LOGIN_REMOVED = "login_removed", _("Login removed")
        PROFILE_CHANGED = "profile_changed", _("Own profile changed")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        SECOND_FACTOR_CHANGED = "second_factor_changed", _("Second factor changed")
        SESSIONS_ENDED = "sessions_ended", _("Other sessions signed out")
        COMPANY_PROFILE_CHANGED = "company_profile_changed", _("Company profile changed")
        APPLICATION_RECEIVED = "application_received", _("Application for access received")
        APPLICATION_APPROVED = "application_approved", _("Application for access approved")
        APPLICATION_REJECTED = "application_rejected", _("Application for access rejected")
        PUK_VIEWED = "puk_viewed", _("PUK codes shown")
        INVITATION_SENT = "invitation_sent", _("Invited to the company")
        INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
        INVITATION_DECLINED = "invitation_declined", _("Invitation declined")
        INVITATION_WITHDRAWN = "invitation_withdrawn", _("Invitation withdrawn")
        APPROVAL_HANDED_OVER = "approval_handed_over", _("Order approval handed to a stand-in")
        GROUPS_CHANGED = "groups_changed", _("Group categories or groups changed")
        GROUP_MEMBERSHIP_CHANGED = "group_membership_changed", _("Group membership changed")
        GROUP_MOVE_IN_FORCE = "group_move_in_force", _("Group move took effect")
        GROUP_UPLOAD_APPLIED = "group_upload_applied", _("Group workbook applied")
        # The operator's staff in the back office (shown to the company as the operator).
        INVOICE_MARKED_PAID = "invoice_marked_paid", _("Invoice marked paid")
        CREDIT_NOTE_ISSUED = "credit_note_issued", _("Credit note issued")
        SIM_CHANGE_REQUESTED = "sim_change_requested", _("SIM card change requested")
        SUPPORT_CASE_ASSIGNED = "support_case_assigned", _("Support case assigned at the operator")
        FAULT_REPORT_ASSIGNED = "fault_report_assigned", _("Fault report assigned at the operator")

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too: the log must read the same after a login is deleted.
    actor_label = models.CharField(_("by"), max_length=254, blank=True)
    # The actor was operator staff: the company's log shows "The operator", never the employee (the
    # back office still has the login and its address).
    by_operator = models.BooleanField(_("by the operator"), default=False, db_default=False)
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("what"), max_length=30, choices=Action.choices)
    target_user = models.ForeignKey(
        User, verbose_name=_("login concerned"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_label = models.CharField(_("concerning"), max_length=254, blank=True)
    # {"field": [before, after], ...}
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["company", "-created_at"], name="audit_company_time_idx"),
            models.Index(fields=["company", "action", "-created_at"], name="audit_company_action_idx"),
            # The search ("who") uses the trigram indexes of migration 0013 (raw SQL: UPPER(column) gin_trgm_ops).
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.get_action_display()}"


class MembershipInvitation(models.Model):
    """An offer of access to a company for an e-mail address: every colleague the wizard invites, whether
    the address has a login somewhere already or not (``new_login``).

    Nothing about that login reaches the inviting company until it accepts: the invitation holds only
    the address as typed and the access offered. The Membership is created on acceptance
    (accounts.services.users.membership_invitation_accept), with the access checked again then.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    company = models.ForeignKey(Company, verbose_name=_("company"), on_delete=models.CASCADE,
                                related_name="membership_invitations")
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CUSTOM)
    permissions = ArrayField(models.CharField(max_length=50), default=list, blank=True,
                             verbose_name=_("permissions"))
    all_accounts = models.BooleanField(_("all account numbers"), default=False)
    accounts = models.ManyToManyField("subscriptions.BillingAccount", blank=True, related_name="+",
                                      verbose_name=_("account numbers"))
    invited_by = models.ForeignKey(User, verbose_name=_("invited by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    # The address had no login: the wizard made one, not yet activated and of no company, and mailed it an
    # activation link. Activating is accepting (accounts.services.applications.activation_complete); the
    # inviting company sees the same invitation as for a login that exists already.
    new_login = models.BooleanField(_("for a new login"), default=False)

    class Meta:
        verbose_name = _("invitation to a company")
        verbose_name_plural = _("invitations to a company")
        ordering = ["-created_at"]
        constraints = [
            # One open offer per company and address: sending the wizard twice cannot make two.
            models.UniqueConstraint(Upper("email"), "company", condition=models.Q(status="pending"),
                                    name="membership_invitation_one_pending"),
        ]
        indexes = [models.Index(Upper("email"), "status", name="invitation_email_idx")]

    def __str__(self):
        return f"{self.email} → {self.company}"


class Shortcut(models.Model):
    """A page a login saved under a name ("Genväg"), with its filters: e.g. "blocked lines in account
    12345" is the subscription list's path and query. Each login's own, per company; shown on the
    overview and in the menu (accounts.services.shortcuts checks the path: portal pages only)."""

    user = models.ForeignKey(User, verbose_name=_("login"), on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey(Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    # The path and query on this site ("/subscriptions/?status=blocked&account=12"), never a host.
    path = models.CharField(_("page"), max_length=2000)
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("shortcut")
        verbose_name_plural = _("shortcuts")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(Upper("name"), "user", "company", name="shortcut_unique_name"),
        ]
        indexes = [models.Index(fields=["user", "company", "position"], name="shortcut_user_company_idx")]

    def __str__(self):
        return self.name
