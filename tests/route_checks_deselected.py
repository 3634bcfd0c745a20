"""Route checks (tests/tenancy.py) that apply to none of a class's routes, and why.

tests/conftest.py deselects exactly these; any other "got empty parameter set" fails the run, and so
does an entry here whose check now runs. Key: the test's node id without its parameter.
"""

NO_OBJECT = "no route of the class has an object in its URL"
NOT_A_LIST = "no route of the class is a list or an export"
READ_ONLY = "every route of the class is a GET"
OWN_LOGIN = "pages of the signed-in login itself: no company, so no permission and no tenant to cross"
NOT_ACCOUNT_SCOPED = "the objects are logins of the company, which no account scope restricts"

DESELECTED_ROUTE_CHECKS: dict[str, str] = {
    "tests/accounts/test_access.py::TestAreaAccess::test_object_of_another_company_is_404": NO_OBJECT,
    "tests/accounts/test_access.py::TestAreaAccess::test_object_outside_account_scope_is_404": NO_OBJECT,
    "tests/accounts/test_access.py::TestCompanyAdministrationAccess::test_object_of_another_company_is_404": NO_OBJECT,
    "tests/accounts/test_access.py::TestCompanyAdministrationAccess::test_object_outside_account_scope_is_404": (
        NO_OBJECT),
    "tests/accounts/test_access.py::TestCompanyAdministrationAccess::test_post_without_csrf_token_is_refused": (
        READ_ONLY),
    "tests/accounts/test_access.py::TestLoginPageAccess::test_list_shows_own_rows_only": NOT_A_LIST,
    "tests/accounts/test_access.py::TestLoginPageAccess::test_login_without_company_is_refused": OWN_LOGIN,
    "tests/accounts/test_access.py::TestLoginPageAccess::test_member_without_permission_is_refused": OWN_LOGIN,
    "tests/accounts/test_access.py::TestLoginPageAccess::test_object_of_another_company_is_404": OWN_LOGIN,
    "tests/accounts/test_access.py::TestLoginPageAccess::test_object_outside_account_scope_is_404": OWN_LOGIN,
    "tests/accounts/test_profile_access.py::TestCompanyProfileWriteAccess::test_list_shows_own_rows_only": NOT_A_LIST,
    "tests/accounts/test_profile_access.py::TestCompanyProfileWriteAccess::test_object_of_another_company_is_404": (
        NO_OBJECT),
    "tests/accounts/test_profile_access.py::TestCompanyProfileWriteAccess::test_object_outside_account_scope_is_404": (
        NO_OBJECT),
    "tests/accounts/test_profile_access.py::TestProfilePageAccess::test_list_shows_own_rows_only": NOT_A_LIST,
    "tests/accounts/test_profile_access.py::TestProfilePageAccess::test_login_without_company_is_refused": OWN_LOGIN,
    "tests/accounts/test_profile_access.py::TestProfilePageAccess::test_member_without_permission_is_refused": (
        OWN_LOGIN),
    "tests/accounts/test_profile_access.py::TestProfilePageAccess::test_object_of_another_company_is_404": OWN_LOGIN,
    "tests/accounts/test_profile_access.py::TestProfilePageAccess::test_object_outside_account_scope_is_404": (
        OWN_LOGIN),
    "tests/accounts/test_users_access.py::TestUserPagesAccess::test_list_shows_own_rows_only": NOT_A_LIST,
    "tests/accounts/test_users_access.py::TestInvitationPagesAccess::test_list_shows_own_rows_only": NOT_A_LIST,
    "tests/accounts/test_users_access.py::TestInvitationPagesAccess::test_login_without_company_is_refused": OWN_LOGIN,
    "tests/accounts/test_users_access.py::TestInvitationPagesAccess::test_member_without_permission_is_refused": (
        OWN_LOGIN),
    "tests/accounts/test_users_access.py::TestInvitationPagesAccess::test_object_outside_account_scope_is_404": (
        "invitations are addressed to a login, which no account scope restricts"),
    "tests/accounts/test_users_access.py::TestUserPagesAccess::test_object_outside_account_scope_is_404": (
        NOT_ACCOUNT_SCOPED),
    # The quick actions take a number in the form, not an id in the URL; foreign and out-of-scope numbers
    # are refused in tests/accounts/test_overview.py, foreign and out-of-scope search hits in
    # tests/test_global_search.py.
    "tests/accounts/test_overview_access.py::TestOverviewAccess::test_object_of_another_company_is_404": (
        "no route here has an object in its URL (numbers and search text come in the request)"),
    "tests/accounts/test_overview_access.py::TestOverviewAccess::test_object_outside_account_scope_is_404": (
        "no route here has an object in its URL (numbers and search text come in the request)"),
    "tests/accounts/test_overview_access.py::TestOverviewAccess::test_list_shows_own_rows_only": (
        "the search is read with a query, which a RouteCheck cannot send: tests/test_global_search.py"),
    "tests/invoices/test_access.py::TestInvoiceAccess::test_post_without_csrf_token_is_refused": READ_ONLY,
    "tests/invoices/test_documents_views.py::TestDocumentAccess::test_list_shows_own_rows_only": NOT_A_LIST,
    "tests/invoices/test_documents_views.py::TestDocumentAccess::test_post_without_csrf_token_is_refused": READ_ONLY,
}
