"""Settings → Brand in a real browser: a logo uploads as soon as it is picked, without undoing
colours typed but not yet saved, and is removed only once confirmed; a bad value is named
beside its own field."""

from __future__ import annotations

from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser.conftest import BOTH_WIDTHS, assert_fits_the_width, log_in


@BOTH_WIDTHS
def test_a_picked_logo_uploads_at_once_and_keeps_the_colours_being_edited(page, live_app, shop, tmp_path):
    logo = tmp_path / "logo.png"
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((10, 10, 90, 90), fill=(200, 16, 46, 255))
    image.save(logo)
    log_in(page)
    page.goto("/settings#brand")
    brand = page.locator("#brand")
    brand.get_by_label("Call to action").fill("Shop the Bloom")  # typed, not saved yet
    brand.get_by_label("Primary colour").fill("#0e7490")
    expect(brand.locator("#primary_color-hint")).to_have_text("#0E7490")  # the hex as it is picked
    brand.get_by_label("Logo (PNG or JPEG").set_input_files(str(logo))
    expect(brand.get_by_role("status")).to_contain_text("Logo saved")
    expect(brand.get_by_role("img", name="Your logo")).to_be_visible()
    expect(brand.get_by_label("Call to action")).to_have_value("Shop the Bloom")
    expect(brand.get_by_label("Primary colour")).to_have_value("#0e7490")
    brand.get_by_role("button", name="Save brand").click()
    expect(brand.get_by_role("status")).to_contain_text("Brand saved")
    expect(brand.get_by_label("Call to action")).to_have_value("Shop the Bloom")
    expect(brand.get_by_role("img", name="Your logo")).to_be_visible()
    assert_fits_the_width(page)
    # removing it asks first (it was gone at one click); "Not now" keeps it
    brand.get_by_role("button", name="Remove logo").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("Remove your logo?")
    dialog.get_by_role("button", name="Not now").click()
    expect(brand.get_by_role("img", name="Your logo")).to_be_visible()
    brand.get_by_role("button", name="Remove logo").click()
    dialog.get_by_role("button", name="Remove logo").click()
    expect(brand.get_by_role("img", name="Your logo")).to_be_hidden()
    expect(brand).to_contain_text("No logo yet")
