from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.templatetags.portal import phone
from selfcare.outbox.models import Channel, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "recipient_display", "subject", "status", "attempts", "sent_at"]
    list_filter = ["channel", "status"]
    search_fields = ["recipient", "subject"]
    # Bodies hold one-time codes and links: staff see that a message went out, not its content.
    exclude = ["body"]
    readonly_fields = ["channel", "recipient", "subject", "status", "attempts", "last_error", "created_at", "sent_at"]

    @admin.display(description=_("recipient"), ordering="recipient")
    def recipient_display(self, message):
        return phone(message.recipient) if message.channel == Channel.SMS else message.recipient

    def has_add_permission(self, request):
        return False
