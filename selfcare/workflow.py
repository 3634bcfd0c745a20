"""Status machines as data: a model states its allowed transitions, and every change of status goes
through ``transition`` here, which records it on the model's timeline.

A model declares its machine and its timeline (orders today; support cases and fault reports later)::

    class Order(TenantModel):
        status = models.CharField(choices=Status.choices, ...)
        workflow = Workflow(
            transitions={
                Status.DRAFT: {Status.AWAITING_APPROVAL, Status.RECEIVED},
                Status.RECEIVED: {Status.IN_PROGRESS, Status.REJECTED},
                ...
            },
            event_model="orders.OrderEvent",   # a concrete TimelineEvent with a ``subject`` foreign key
        )

and a service moves it::

    order = transition(Order, pk=order_id, to=Order.Status.RECEIVED, actor=user, reason="",
                       changes={"tracking_number": "..."}, expected={Order.Status.IN_PROGRESS})

``transition`` locks the row (``SELECT … FOR UPDATE``) inside a transaction, checks the transition
against the machine (and, when given, that the row is still in one of the ``expected`` statuses, so a
page that was read earlier cannot move a row that moved meanwhile), applies the status and the other
changes, and writes the timeline event (who, when, from, to, why) in the same transaction: both or
neither. A refused transition raises ``TransitionRefused``, a ``ValidationError`` with a translated
message naming both statuses. Self-transitions (e.g. "awaiting approval" → "awaiting approval" when
an order passes to the next approver) are allowed only when the machine lists them.

Who did it: a person (``actor=user``: their name on the timeline, or "the operator" for the operator's
staff, who are never named to customers), or nobody: ``actor=SYSTEM`` for what the portal does by itself
(a beat or worker job: a case closed after its reopening limit, a change the operator's systems carried
out, an absent approver's step handed on), which the timeline shows as "Automatically". The event
remembers which in ``data`` (``"automatic"``, ``"by_operator"``); events from before say neither and
read as they always did.

The timeline component ``components/timeline.html`` shows any model's events (``events``).
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class TransitionRefused(ValidationError):
    """The status machine does not allow this change (or the row moved since it was read)."""

    def __init__(self, message, *, current: str = "", wanted: str = ""):
        super().__init__(message, code="transition_refused")
        self.current = current
        self.wanted = wanted


@dataclass(frozen=True)
class Workflow:
    transitions: dict
    event_model: str
    status_field: str = "status"
    # The statuses an item may start in (the first event records "created" in one of them).
    initial: frozenset = field(default_factory=frozenset)

    def allowed(self, current: str, wanted: str) -> bool:
        return wanted in self.transitions.get(current, ())

    def next_statuses(self, current: str) -> set:
        return set(self.transitions.get(current, ()))

    def events(self):
        return apps.get_model(self.event_model)

    def validate(self, model) -> None:
        """Every status named in the machine is one of the model's choices (checked in tests)."""
        choices = {value for value, _label in model._meta.get_field(self.status_field).choices}
        named = set(self.transitions) | {target for targets in self.transitions.values() for target in targets}
        unknown = named - choices
        if unknown:
            raise ValueError(f"{model.__name__}.workflow names unknown statuses: {sorted(unknown)}")


class _System:
    """The actor of a change no person made (``SYSTEM``). Not a login: ``is_authenticated`` is False, so
    wherever a person is expected (the audit log's ``actor``) it counts as nobody."""

    is_authenticated = False

    def __repr__(self):
        return "SYSTEM"


SYSTEM = _System()


def _label(model, value) -> str:
    return str(dict(model._meta.get_field(model.workflow.status_field).choices).get(value, value))


def _actor_label(actor) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ""
    return actor.get_full_name() or actor.email


def record_event(*, item, from_status: str, to_status: str, actor=None, reason: str = "", kind: str = "",
                 data: dict | None = None):
    """A timeline event for ``item`` without a status change (e.g. "created", "approved by 1 of 2")."""
    events = type(item).workflow.events()
    person = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    data = dict(data or {})
    if actor is SYSTEM:
        data["automatic"] = True
    elif person is not None and person.is_staff:
        data["by_operator"] = True
    return events.objects.create(
        company_id=item.company_id, subject=item, from_status=from_status, to_status=to_status,
        actor=person, actor_label=_actor_label(actor), reason=reason, kind=kind, data=data,
    )


def transition(model, *, pk, to: str, actor=None, reason: str = "", changes: dict | None = None,
               expected=None, kind: str = "", data: dict | None = None, queryset=None):
    """Move row ``pk`` of ``model`` to status ``to`` under a row lock and record it. Returns the row.

    ``expected``: statuses the caller believes the row is in; if it has moved on, the change is
    refused (stale page, two people at once). ``queryset`` narrows where the row is looked up (a
    membership's scope); a row outside it is ``model.DoesNotExist``.
    """
    workflow: Workflow = model.workflow
    with transaction.atomic():
        rows = queryset if queryset is not None else model.objects.all()
        item = rows.select_for_update(of=("self",)).get(pk=pk)
        current = getattr(item, workflow.status_field)
        if expected is not None and current not in set(expected):
            raise TransitionRefused(
                gettext("This has changed meanwhile: it is now “%(current)s”. Nothing was done.")
                % {"current": _label(model, current)},
                current=current, wanted=to,
            )
        if not workflow.allowed(current, to):
            raise TransitionRefused(
                gettext("It cannot go from “%(current)s” to “%(wanted)s”.")
                % {"current": _label(model, current), "wanted": _label(model, to)},
                current=current, wanted=to,
            )
        setattr(item, workflow.status_field, to)
        fields = {workflow.status_field}
        for name, value in (changes or {}).items():
            setattr(item, name, value)
            fields.add(name)
        if any(f.name == "status_changed_at" for f in model._meta.concrete_fields):
            item.status_changed_at = timezone.now()
            fields.add("status_changed_at")
        item.save(update_fields=sorted(fields))
        record_event(item=item, from_status=current, to_status=to, actor=actor, reason=reason, kind=kind, data=data)
    return item


class TimelineEvent(models.Model):
    """One entry of an item's timeline: who, when, from which status to which, and why.

    Concrete subclasses add ``subject = models.ForeignKey(TheModel, related_name="events", ...)`` and
    ``company`` (they are tenant rows: inherit ``accounts.tenancy.TenantModel`` too).
    """

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    # Kept as text too: the timeline reads the same after a login is removed.
    actor_label = models.CharField(_("by"), max_length=200, blank=True)
    from_status = models.CharField(_("from"), max_length=30, blank=True)
    to_status = models.CharField(_("to"), max_length=30)
    # What happened when it was not only a status change ("approved", "handed on", "created" ...).
    kind = models.CharField(_("what"), max_length=30, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def status_label(self, value) -> str:
        return _label(self._meta.get_field("subject").related_model, value)

    @property
    def from_label(self) -> str:
        return self.status_label(self.from_status) if self.from_status else ""

    @property
    def to_label(self) -> str:
        return self.status_label(self.to_status)

    @property
    def by_label(self) -> str:
        """Who, as the customer reads it: "Automatically", "the operator" (staff, or an older event
        without a person), or the person's name."""
        if self.data.get("automatic"):
            return gettext("Automatically")
        if self.data.get("by_operator") or not self.actor_label:
            return gettext("the operator")
        return self.actor_label

    @property
    def kind_label(self) -> str:
        labels = getattr(self, "KIND_LABELS", {})
        return str(labels.get(self.kind, "")) if self.kind else ""


def flag_staff_events(schema_editor, tables: list[str]) -> None:
    """For the data migrations of the apps with timelines: the events staff made before events carried
    ``data.by_operator`` get it, so they read "the operator" too (``TimelineEvent.by_label``)."""
    for table in tables:
        schema_editor.execute(
            f"UPDATE {schema_editor.quote_name(table)} SET data = data || '{{\"by_operator\": true}}'::jsonb "
            "WHERE actor_id IN (SELECT id FROM accounts_user WHERE is_staff) AND NOT (data ? 'by_operator')")
