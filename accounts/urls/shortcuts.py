"""The login's shortcuts (tests/accounts/test_shortcuts.py)."""

from django.urls import path

from accounts.views import shortcuts

urlpatterns = [
    path("shortcuts/", shortcuts.ShortcutListView.as_view(), name="shortcuts"),
    path("shortcuts/new/", shortcuts.ShortcutCreateView.as_view(), name="shortcut_create"),
    path("shortcuts/<int:pk>/rename/", shortcuts.ShortcutRenameView.as_view(), name="shortcut_rename"),
    path("shortcuts/<int:pk>/move/", shortcuts.ShortcutMoveView.as_view(), name="shortcut_move"),
    path("shortcuts/<int:pk>/delete/", shortcuts.ShortcutDeleteView.as_view(), name="shortcut_delete"),
]
