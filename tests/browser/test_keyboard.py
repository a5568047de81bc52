"""Keyboard use: skip link, sign-in and booking without a mouse."""
import re

from playwright.sync_api import expect

from .conftest import unique_email
from .support import PHONE, next_week_monday


def test_sign_in_with_the_keyboard_only(ui):
    email = unique_email("keys")
    page = ui.page(PHONE)
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Work email address")).to_be_focused()
    page.keyboard.type(email)
    page.keyboard.press("Enter")
    code = page.get_by_label("6-digit code")
    expect(code).to_be_focused()  # focus moves to the code field
    page.keyboard.type(ui.stack.smtp.code_for(email))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Book a place")).to_be_visible()


def test_book_and_cancel_with_the_keyboard_only(ui):
    email = unique_email("keys")
    page = ui.signed_in(email)
    page.get_by_role("button", name=re.compile("Office Alpha")).focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Next week").focus()
    page.keyboard.press("Enter")
    monday = next_week_monday()
    day = page.locator(f'li[data-date="{monday.isoformat()}"]')
    day.get_by_role("button", name=re.compile(r"^Book \w+day")).focus()
    page.keyboard.press("Enter")
    expect(day).to_contain_text("Booked")
    day.get_by_role("button", name=re.compile("^Cancel")).focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("button", name="Keep booking")).to_be_focused()  # the safe choice first
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    day.get_by_role("button", name=re.compile("^Cancel")).focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Cancel booking")).to_be_focused()
    page.keyboard.press("Enter")
    expect(day).not_to_contain_text("Booked")
