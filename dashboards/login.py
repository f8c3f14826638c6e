"""The login screen: the city's single sign-on when configured, else the local users file.

Single sign-on uses Streamlit's OIDC login (`st.login`), switched on by an `[auth]` section in
`.streamlit/secrets.toml` (client id and secret, the provider's metadata URL, redirect URI, cookie
secret; see dashboards/README.md). The identity provider vouches for who someone is; the users file
(`dashboards.access`) still decides whether, and with which roles, that person may see the figures.
Without `[auth]`, the login form checks the password against the users file's scrypt hashes.

Every login, failed login, refusal and logout goes to the audit log. A successful login lives in
the session (a new browser tab asks again, for the local login; the SSO cookie keeps the SSO login).
"""

from __future__ import annotations

import streamlit as st

from dashboards import access, audit, labels
from dashboards.access import SignedInUser
from dashboards.components import USER_KEY
from dashboards.i18n import language_switch, t

FORM_KEY = "anmeldung"
LOGIN_KEY = "anmeldename"
PASSWORD_KEY = "passwort"
SSO_BUTTON_KEY = "sso-anmelden"
LOGOUT_KEY = "abmelden"


def sso_configured() -> bool:
    """Whether `.streamlit/secrets.toml` (or the test's secrets) has an `[auth]` section."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises instead of answering no
        return False


def signed_in() -> SignedInUser | None:
    """The person of this session, or None before a login."""
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, SignedInUser) else None


def require_login() -> SignedInUser | None:
    """Show the login screen unless someone is signed in; returns the signed-in person or None."""
    user = signed_in()
    if user is not None:
        return user
    if sso_configured():
        return _single_sign_on()
    _local_form()
    return signed_in()


def logout_button(user: SignedInUser) -> None:
    """Who is signed in, with which roles, and the way out (in the sidebar)."""
    roles = ", ".join(labels.words(access.ROLES[role]) for role in sorted(user.roles) if role in access.ROLES)
    st.sidebar.caption(t(f"Angemeldet: {user.name} ({roles})", f"Signed in: {user.name} ({roles})"))
    if st.sidebar.button(t("Abmelden", "Sign out"), key=LOGOUT_KEY, icon=":material/logout:"):
        audit.record("logout", user=user.login, auth=user.method)
        del st.session_state[USER_KEY]
        if user.method == "sso":
            st.logout()
        st.rerun()


def _local_form() -> None:
    language_switch()
    st.title(labels.app_title())
    st.markdown(
        t(
            "Bitte melden Sie sich an. Den Zugang richtet die Datenstelle ein "
            "(`python -m dashboards.access add-user`).",
            "Please sign in. Access is set up by the data office (`python -m dashboards.access add-user`).",
        )
    )
    with st.form(FORM_KEY):
        login = st.text_input(t("Benutzername", "User name"), key=LOGIN_KEY)
        password = st.text_input(t("Passwort", "Password"), type="password", key=PASSWORD_KEY)
        submitted = st.form_submit_button(t("Anmelden", "Sign in"), type="primary")
    if not submitted:
        return
    try:
        user = access.authenticate(login, password)
    except access.AccessError as error:
        st.error(str(error))
        return
    if user is None or not user.roles:
        known = access.load_users().users.get(login.strip()) is not None
        audit.record("login_failed", user=login.strip() if known else None, auth="local")
        st.error(t("Benutzername oder Passwort ist falsch.", "Wrong user name or password."))
        return
    _sign_in(SignedInUser(user.login, user.display_name(), user.roles, "local"))


def _single_sign_on() -> SignedInUser | None:
    # `.get`, not `.is_logged_in`: before the first login st.user may not have the key at all.
    if not st.user.get("is_logged_in"):
        language_switch()
        st.title(labels.app_title())
        st.markdown(t("Anmeldung mit dem Konto der Stadtverwaltung.", "Sign in with your city account."))
        if st.button(
            t("Mit städtischem Konto anmelden", "Sign in with city account"), key=SSO_BUTTON_KEY, type="primary"
        ):
            st.login()
        return None
    email = st.user.get("email")
    user = access.load_users().by_email(str(email) if email else None)
    if user is None or not user.roles:
        audit.record("denied", user=str(email) if email else None, auth="sso")
        st.error(
            t(
                "Ihr Konto ist angemeldet, hat aber noch keinen Zugang zum Dashboard. "
                "Bitte wenden Sie sich an die Datenstelle.",
                "Your account is signed in but has no access to the dashboard yet. Please contact the data office.",
            )
        )
        if st.button(t("Abmelden", "Sign out"), key=LOGOUT_KEY):
            st.logout()
        return None
    return _sign_in(SignedInUser(user.login, user.display_name(), user.roles, "sso"))


def _sign_in(user: SignedInUser) -> SignedInUser:
    st.session_state[USER_KEY] = user
    audit.record("login", user=user.login, auth=user.method, details={"roles": sorted(user.roles)})
    if user.method == "local":
        st.rerun()  # draw the dashboard instead of the form, in this same click
    return user
