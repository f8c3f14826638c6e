"""Who may see what: login (local users file and single sign-on), roles, and the audit log."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import log_in
from dashboard_release_builder import APP, RELEASE_ID, VIEWS, PublishedRelease
from streamlit.testing.v1 import AppTest

from dashboards import access, audit

STEWARD_PAGES = {"datenqualitaet.py", "pruefung.py"}
FIGURE_PAGES = {
    "ueberblick.py",
    "zustaendigkeiten.py",
    "uebergaenge.py",
    "wege_sprache_arbeit.py",
    "junge_gefluechtete.py",
    "staedtevergleich.py",
    "arbeitsmarktprofile.py",
}
SSO_SECRETS = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "a-long-random-test-cookie-secret",
    "client_id": "integrationsmonitor",
    "client_secret": "test-secret",
    "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration",
}


def registered_pages(app: AppTest) -> set[str]:
    # AppTest has no public view of the navigation; its registry holds what st.navigation registered.
    return {Path(info["script_path"]).name for info in app._registered_pages.values()}


def events(kind: str | None = None) -> list[dict]:
    return [entry for entry in audit.read_entries() if kind is None or entry["event"] == kind]


def test_nobody_sees_figures_before_logging_in(published: PublishedRelease, users: Path) -> None:
    app = AppTest.from_file(APP, default_timeout=60).run()

    assert [t.value for t in app.title] == ["Integrationsmonitor"]
    assert app.text_input(key="passwort")
    assert not app.get("plotly_chart") and not app.metric and not app.dataframe


def test_a_wrong_password_is_refused_and_audited(published: PublishedRelease, users: Path) -> None:
    app = log_in(AppTest.from_file(APP, default_timeout=60).run(), "lenkung", "falsch")

    assert any("falsch" in e.value for e in app.error)
    assert not app.metric
    assert [(e["event"], e["user"], e["auth"]) for e in events()] == [("login_failed", "lenkung", "local")]


def test_an_unknown_login_is_refused_without_naming_it_in_the_audit_log(
    published: PublishedRelease, users: Path
) -> None:
    log_in(AppTest.from_file(APP, default_timeout=60).run(), "mallory", "egal")

    assert [(e["event"], e["user"]) for e in events()] == [("login_failed", None)]


def test_a_correct_login_opens_the_overview_and_is_audited_with_roles(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app(user="lenkung")

    assert [t.value for t in app.title][0] == "Überblick"
    login, view = events()[:2]
    assert (login["event"], login["user"], login["roles"]) == ("login", "lenkung", ["steering"])
    assert (view["event"], view["user"], view["page"], view["release"]) == ("view", "lenkung", "ueberblick", RELEASE_ID)


def test_a_steering_group_member_cannot_open_the_steward_pages(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app(user="lenkung")

    assert registered_pages(app) == FIGURE_PAGES | {"methodik.py"}
    for page in STEWARD_PAGES:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            app.switch_page(f"views/{page}")


def test_a_data_steward_sees_the_quality_pages_but_not_the_figures(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app(user="datenpflege")

    assert registered_pages(app) == STEWARD_PAGES | {"methodik.py"}
    assert [t.value for t in app.title][0] == "Datenqualität"
    assert not app.exception and not app.error
    assert all("Monatsbericht" not in b.label for b in app.get("download_button")), "the report holds figures"


@pytest.mark.parametrize("steward_page", sorted(STEWARD_PAGES))
def test_the_steward_page_checks_the_role_itself(published: PublishedRelease, users: Path, steward_page: str) -> None:
    # Defence in depth: should the page ever run for someone without the role, it still refuses.
    page = AppTest.from_file(VIEWS / steward_page, default_timeout=60)
    page.session_state["_benutzer"] = access.SignedInUser("lenkung", "Lenkung", frozenset({"steering"}), "local")
    page.run()

    assert any("vorbehalten" in e.value for e in page.error)
    assert not page.dataframe


def test_logout_is_audited_and_shows_the_login_form_again(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app(user="lenkung")
    app.button(key="abmelden").click().run()

    assert app.text_input(key="passwort")
    assert not app.metric
    assert events()[-1]["event"] == "logout" and events()[-1]["user"] == "lenkung"


def test_single_sign_on_shows_the_city_account_button_when_configured(published: PublishedRelease, users: Path) -> None:
    app = AppTest.from_file(APP, default_timeout=60)
    app.secrets["auth"] = SSO_SECRETS
    app.run()

    assert app.button(key="sso-anmelden").label == "Mit städtischem Konto anmelden"
    with pytest.raises(KeyError):
        app.text_input(key="passwort")  # with single sign-on, no local passwords


def test_single_sign_on_takes_the_roles_from_the_users_file_by_email(published: PublishedRelease, users: Path) -> None:
    access.add_user("mmuster", [access.STEERING], password=None, name="Maria Muster", email="Maria.Muster@stadt.de")
    app = AppTest.from_file(APP, default_timeout=60)
    app.secrets["auth"] = SSO_SECRETS
    app.user = {"is_logged_in": True, "email": "maria.muster@stadt.de", "name": "Maria Muster"}
    app.run()

    assert [t.value for t in app.title][0] == "Überblick"
    assert registered_pages(app) == FIGURE_PAGES | {"methodik.py"}
    assert (events()[0]["event"], events()[0]["user"], events()[0]["auth"]) == ("login", "mmuster", "sso")


def test_a_single_sign_on_account_without_an_entry_gets_no_access(published: PublishedRelease, users: Path) -> None:
    app = AppTest.from_file(APP, default_timeout=60)
    app.secrets["auth"] = SSO_SECRETS
    app.user = {"is_logged_in": True, "email": "fremd@stadt.de"}
    app.run()

    assert any("keinen Zugang" in e.value for e in app.error)
    assert not app.metric and not app.get("plotly_chart")
    assert [(e["event"], e["user"]) for e in events()] == [("denied", "fremd@stadt.de")]


def test_every_page_view_and_filter_change_is_audited_once(
    published: PublishedRelease, open_app: Callable[..., AppTest]
) -> None:
    app = open_app()
    app.run()  # a rerun without a change is not a new view
    app.switch_page("views/staedtevergleich.py").run()
    app.multiselect(key="staedte").set_value(["solingen"]).run()

    views = events("view")
    assert [v["page"] for v in views] == ["ueberblick", "staedtevergleich", "staedtevergleich"]
    assert all(v["user"] == "beides" and v["release"] == RELEASE_ID for v in views)
    assert views[-1]["filters"]["cities"] == ["solingen"]


def test_the_audit_log_is_a_hash_chain_that_shows_an_edited_line(data_dir: Path) -> None:
    for page in ("ueberblick", "uebergaenge", "methodik"):
        audit.record("view", user="lenkung", release=RELEASE_ID, page=page)
    assert audit.verify_chain() == []

    path = audit.audit_path()
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("uebergaenge", "ueberblick")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert audit.verify_chain() == [3]


def test_passwords_are_stored_as_salted_scrypt_hashes_only(data_dir: Path) -> None:
    first = access.add_user("a", [access.STEERING], password="gleiches-passwort")
    second = access.add_user("b", [access.STEERING], password="gleiches-passwort")
    stored = access.users_path().read_text(encoding="utf-8")

    assert "gleiches-passwort" not in stored
    assert first.password_hash != second.password_hash, "a salt per user"
    assert first.password_hash.startswith("scrypt$16384$8$1$")
    assert access.authenticate("a", "gleiches-passwort") is not None
    assert access.authenticate("a", "gleiches-passwort!") is None
    assert access.users_path().stat().st_mode & 0o077 == 0, "the users file is readable by its owner only"


def test_add_user_command_line_reads_the_password_from_stdin(data_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dashboards.access", "add-user", "kboss", "--role", "steering", "--role", "steward",
         "--name", "K. Boss", "--password-stdin"],
        input="sehr-geheim\n", capture_output=True, text=True, check=True,
    )  # fmt: skip

    assert "kboss" in result.stdout and "sehr-geheim" not in result.stdout
    user = access.authenticate("kboss", "sehr-geheim")
    assert user is not None and user.roles == {"steering", "steward"} and user.name == "K. Boss"
    listed = subprocess.run(
        [sys.executable, "-m", "dashboards.access", "list-users"], capture_output=True, text=True, check=True
    ).stdout
    assert "kboss\tK. Boss\tsteering,steward" in listed and "scrypt" not in listed


def test_demo_user_gets_a_new_random_password_each_time(data_dir: Path) -> None:
    outputs = [
        subprocess.run(
            [sys.executable, "-m", "dashboards.access", "demo-user"], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    ]
    passwords = [line.split("Passwort `")[1].rstrip("`\n") for line in outputs]
    assert passwords[0] != passwords[1]
    assert access.authenticate("demo", passwords[0]) is None
    assert access.authenticate("demo", passwords[1]) is not None


def test_an_unknown_role_in_the_users_file_is_refused_with_a_clear_message(data_dir: Path) -> None:
    path = access.users_path()
    path.parent.mkdir(parents=True)
    path.write_text('[users.x]\nroles = ["admin"]\n', encoding="utf-8")
    with pytest.raises(access.AccessError, match="unbekannte Rolle"):
        access.load_users()


def test_audit_entries_are_one_json_object_per_line(data_dir: Path) -> None:
    audit.record("export", user="lenkung", release=RELEASE_ID, page="ueberblick", details={"format": "csv"})
    line = audit.audit_path().read_text(encoding="utf-8").splitlines()[0]
    entry = json.loads(line)
    assert entry["at"].endswith("Z") and entry["format"] == "csv" and entry["prev"] == audit.GENESIS
