"""Browser journeys of the foundation: every demo role logs in through the real login page and
sees its dashboard; a site admin invites an organization admin who registers from the link."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lms.extensions import db
from tests.conftest import browser_login
from tests.foundation_factories import make_org, make_user

pytestmark = pytest.mark.browser

# email, name, role line on the dashboard, nav links that must show, nav links that must not
DEMO_ROLES = [
    ("admin@cluster.demo", "Ada Admin", "Cluster administrator", ["Site admin"], ["Organization"]),
    (
        "trainer@uni.demo",
        "Dr. Tomas Novak",
        "Trainer · Northfield University",
        [],
        ["Site admin", "Organization"],
    ),
    (
        "student@uni.demo",
        "Sara Lind",
        "Learner · Northfield University",
        [],
        ["Site admin", "Organization"],
    ),
    (
        "hr@acme.demo",
        "Henrik Olsen",
        "HR manager · Acme Manufacturing",
        ["Organization"],
        ["Site admin"],
    ),
    (
        "employee@acme.demo",
        "Marco Rossi",
        "Learner · Acme Manufacturing",
        [],
        ["Site admin", "Organization"],
    ),
]


def check_dashboard(page, email, name, role_line, shown, hidden) -> None:
    browser_login(page, email)
    expect(page.locator("h1")).to_have_text(f"Hello, {name}")
    expect(page.locator(".page-header .muted").first).to_contain_text(role_line)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Dashboard", exact=True)).to_be_visible()
    for label in shown:
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    for label in hidden:
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_count(0)


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You have logged out.")).to_be_visible()


def test_each_demo_role_logs_in_and_sees_its_dashboard(page, demo):
    """One seeded cluster for every role (seeding is the slow part)."""
    for email, name, role_line, shown, hidden in DEMO_ROLES:
        check_dashboard(page, email, name, role_line, shown, hidden)
        if email == "admin@cluster.demo":
            check_site_admin_pages(page)
        if email == "hr@acme.demo":
            check_hr_people_page(page)
        log_out(page)


def check_site_admin_pages(page) -> None:
    expect(page.get_by_role("heading", name="The cluster")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Site admin").click()
    expect(page.locator("h1")).to_have_text("Site administration")
    page.get_by_role("navigation", name="Site administration").get_by_role(
        "link", name="People"
    ).click()
    expect(page.get_by_role("cell", name="hr@acme.demo")).to_be_visible()
    page.fill("#q", "globex")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("cell", name="hr@globex.demo")).to_be_visible()
    expect(page.get_by_role("cell", name="hr@acme.demo")).to_have_count(0)


def check_hr_people_page(page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Organization").click()
    expect(page).to_have_url(re.compile(r"/admin/org/acme/members$"))
    expect(page.get_by_role("cell", name="Marco Rossi")).to_be_visible()
    page.select_option("#department", label="Quality")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("cell", name="Lena Vogel")).to_be_visible()
    expect(page.get_by_role("cell", name="Marco Rossi")).to_have_count(0)


@pytest.fixture
def small_cluster(app):
    """Just what the invitation journey needs (much faster than seeding the demo)."""
    with app.app_context():
        acme = make_org("acme", "Acme Manufacturing")
        make_user("admin@cluster.demo", "Ada Admin", site_admin=True)
        make_user("employee@acme.demo", "Marco Rossi", [(acme, "learner")])
        db.session.commit()


def test_invited_org_admin_registers_and_manages_people(page, browser, live_server, small_cluster):
    browser_login(page, "admin@cluster.demo")
    page.goto("/admin/site/organizations")
    page.get_by_role("link", name="Invite to Acme Manufacturing").click()
    page.fill("#email", "olga@acme.demo")
    page.select_option("#role", "org_admin")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to olga@acme.demo.")).to_be_visible()
    link = page.input_value("#new-link")
    assert "/auth/invitation/" in link

    # The newcomer opens the link in their own browser and creates the account.
    context = browser.new_context(base_url=live_server)
    newcomer = context.new_page()
    try:
        newcomer.goto(link)
        expect(newcomer.locator("h1")).to_have_text("Join Acme Manufacturing")
        newcomer.fill("#name", "Olga Org")
        newcomer.fill("#password", "olga-secret-2026")
        newcomer.fill("#confirm", "olga-secret-2026")
        newcomer.get_by_role("button", name="Create account and join").click()
        newcomer.wait_for_url("**/dashboard")
        expect(newcomer.locator("h1")).to_have_text("Hello, Olga Org")
        expect(newcomer.get_by_role("heading", name="Your organization")).to_be_visible()
        newcomer.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Organization"
        ).click()
        expect(newcomer.get_by_role("link", name="Marco Rossi")).to_be_visible()
        # Add a department; a destructive action asks first (admin.js, no inline script).
        newcomer.get_by_role("link", name="Departments").click()
        newcomer.fill("#name", "Maintenance")
        newcomer.get_by_role("button", name="Add department").click()
        expect(newcomer.get_by_text("Department Maintenance was created.")).to_be_visible()
        newcomer.once("dialog", lambda dialog: dialog.dismiss())
        newcomer.get_by_role("row", name=re.compile("Maintenance")).get_by_role(
            "button", name="Delete"
        ).click()
        expect(newcomer.get_by_role("cell", name="Maintenance", exact=True)).to_be_visible()
        newcomer.once("dialog", lambda dialog: dialog.accept())
        newcomer.get_by_role("row", name=re.compile("Maintenance")).get_by_role(
            "button", name="Delete"
        ).click()
        expect(newcomer.get_by_text("Department Maintenance was deleted.")).to_be_visible()
    finally:
        context.close()

    # The link worked once.
    page.goto(link)
    expect(page.locator("h1")).to_have_text("This invitation cannot be used")
