"""The group columns of the lists' exports: one per category, the line's group this month."""

from selfcare.lists import ListColumn


def with_group_columns(view, queryset, *, lines: str):
    """(queryset with the groups annotated, the view's columns with one column per category)."""
    from groups.selectors import account_group_annotations, categories_for, current_group_annotations

    categories = list(categories_for(membership=view.membership))
    if not categories:
        return queryset, view.columns
    annotate = current_group_annotations if lines == "subscriptions" else account_group_annotations
    queryset = queryset.annotate(**annotate(categories))
    columns = [*type(view).columns, *(
        ListColumn(f"group_{category.pk}", category.name, lambda row, key=f"group_{category.pk}": getattr(row, key),
                   show=False)
        for category in categories)]
    return queryset, columns


class GroupColumnsExportMixin:
    """For a list view (``selfcare.lists.FilteredListView``): its export gets the group columns.
    ``group_lines`` says what the rows are, as ``with_group_columns`` takes it."""

    group_lines = ""

    def export(self, queryset):
        queryset, self.columns = with_group_columns(self, queryset, lines=self.group_lines)
        return super().export(queryset)
