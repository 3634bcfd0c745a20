from django.contrib import admin

from selfcare.outbox.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "recipient", "subject", "status", "attempts", "sent_at"]
    list_filter = ["channel", "status"]
    search_fields = ["recipient", "subject"]
    # Bodies hold one-time codes and links: staff see that a message went out, not its content.
    exclude = ["body"]
    readonly_fields = ["channel", "recipient", "subject", "status", "attempts", "last_error", "created_at", "sent_at"]

    def has_add_permission(self, request):
        return False
