"""Catalog pages in a real browser: image uploads on a product's edit page and the CSV import
preview, both multipart htmx forms, swapped in without Content-Security-Policy violations."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.conftest import jpeg_bytes

# What browser extensions and tools (Playwright's screenshots among them, hiding the caret) do to
# inputs: an inline style written through the CSSOM, which the CSP allows, and then removed,
# which leaves style="" behind. htmx settles attributes of elements that keep their id across a
# swap; settling "style" copied it back with setAttribute, which style-src 'self' refuses.
TOUCH_INLINE_STYLES = """() => document.querySelectorAll("input, textarea").forEach(el => {
  el.style.setProperty("outline-offset", "1px");
  el.style.removeProperty("outline-offset");
})"""


def csp_violations(page) -> list[str]:
    return [error for error in page.watch.errors if "Content Security Policy" in error]


def test_upload_images_on_the_edit_page(page, live_app, shop):
    log_in(page)
    page.goto(f"/products/{shop['products'][0]}/edit")
    images = page.locator("#product-images .image-item")
    expect(images).to_have_count(3)
    expect(page.locator("[id=images]")).to_have_count(1)  # the section only; the input is #image-files
    files = page.get_by_label("Add images")
    expect(files).to_have_attribute("type", "file")

    page.evaluate(TOUCH_INLINE_STYLES)
    expect(page.locator("#image-files[style]")).to_have_count(1)
    page.get_by_role("button", name="Upload").click()  # nothing chosen: refused beside the field
    expect(page.locator("#images-error")).to_have_text("Choose at least one image to upload.")
    expect(files).to_have_attribute("aria-invalid", "true")
    expect(images).to_have_count(3)

    page.evaluate(TOUCH_INLINE_STYLES)
    files.set_input_files([{"name": "side.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes((20, 160, 90))}])
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status").filter(has_text="1 image added.")).to_be_visible()
    expect(images).to_have_count(4)
    expect(images.nth(3).locator("img")).to_have_attribute("alt", "Aurora Lamp, image 4")
    expect(images.nth(3)).to_contain_text("640×480")
    expect(page.locator("#images-error")).to_have_count(0)
    expect(files).not_to_have_attribute("aria-invalid", "true")
    assert page.evaluate("document.getElementById('image-files').files.length") == 0
    assert csp_violations(page) == []
    assert page.watch.errors == []


def test_import_preview(page, live_app, shop):
    log_in(page)
    page.goto("/products/import")
    area = page.locator("#import-area")

    page.evaluate(TOUCH_INLINE_STYLES)
    page.get_by_role("button", name="Preview import").click()  # no file
    expect(area.locator(".field-error")).to_have_text("Choose a CSV file to import.")

    page.evaluate(TOUCH_INLINE_STYLES)
    page.get_by_label("CSV file").set_input_files([{
        "name": "kettles.csv", "mimeType": "text/csv",
        "buffer": b"external_key,title,price\nkettle-1,Copper Kettle,39.00\nkettle-2,Steel Kettle,29.50\n",
    }])
    page.get_by_role("button", name="Preview import").click()
    expect(area.locator(".import-preview header")).to_contain_text("kettles.csv")
    expect(area.locator(".summary-counts li").first).to_have_text("2 to create")
    rows = area.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Copper Kettle")
    expect(rows.nth(1)).to_contain_text("Steel Kettle")
    expect(area.get_by_role("button", name="Import 2 products")).to_be_visible()
    assert csp_violations(page) == []
    assert page.watch.errors == []
