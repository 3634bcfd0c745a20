from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.views.portal import OverviewPukView, OverviewSimSwapView, OverviewView
from accounts.views.search import GlobalSearchSuggestionsView, GlobalSearchView
from selfcare.outbox.views import dev_inbox

class FaviconView(RedirectView):
    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("img/favicon.svg")  # at request time: the manifest exists only after collectstatic


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="overview", permanent=False), name="home"),
    # Browsers ask for /favicon.ico whatever the page says (the back office has no icon link).
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("overview/", OverviewView.as_view(), name="overview"),
    path("overview/sim-swap/", OverviewSimSwapView.as_view(), name="overview_sim_swap"),
    path("overview/puk/", OverviewPukView.as_view(), name="overview_puk"),
    path("search/", GlobalSearchView.as_view(), name="search"),
    path("search/suggestions/", GlobalSearchSuggestionsView.as_view(), name="search_suggestions"),
    path("", include("accounts.urls")),
    path("subscriptions/", include("subscriptions.urls")),
    path("orders/", include("orders.urls")),
    path("invoices/", include("invoices.urls")),
    path("support/", include("tickets.urls")),
    path("groups/", include("groups.urls")),
    path("jobs/", include("selfcare.jobs.urls")),
    path("dev/inbox/", dev_inbox, name="dev_inbox"),
    path("backoffice/", admin.site.urls),
]
