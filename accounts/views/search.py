"""The global search (selfcare.global_search): suggestions as the user types in the top bar (htmx, the
combobox's listbox) and the results page, which is also what the search does without JavaScript."""

from accounts.views_base import PortalTemplateView
from selfcare.global_search import RESULTS_PER_KIND, SUGGESTIONS_PER_KIND, global_search, search_query


class _SearchView(PortalTemplateView, abstract=True):
    required_permission = None  # any member; each kind of hit needs its own permission
    per_kind = SUGGESTIONS_PER_KIND

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        text = self.request.GET.get("q", "")
        query = search_query(text)
        context.update(search_text=query.text, searched=bool(query.text),
                       groups=global_search(membership=self.membership, text=text, limit=self.per_kind))
        context["hit_count"] = sum(len(group.hits) for group in context["groups"])
        return context


class GlobalSearchView(_SearchView):
    template_name = "components/global_search_results.html"
    per_kind = RESULTS_PER_KIND


class GlobalSearchSuggestionsView(_SearchView):
    template_name = "components/global_search_suggestions.html"

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response
