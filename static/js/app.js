// Reelboard's few behaviours that HTML alone cannot do. No inline scripts anywhere (CSP).
(function () {
  "use strict";

  function closestData(el, name) { return el && el.closest ? el.closest("[" + name + "]") : null; }

  // Dialogs: open after htmx loads their body; close on [data-close-dialog]; Esc closes natively.
  let opener = null;
  document.addEventListener("click", function (event) {
    const openButton = closestData(event.target, "data-opens-dialog");
    if (openButton) {
      opener = openButton;
      const dialog = document.getElementById(openButton.dataset.opensDialog);
      if (dialog && !dialog.open) dialog.showModal();
    }
    const closeButton = closestData(event.target, "data-close-dialog");
    if (closeButton) closeButton.closest("dialog").close();

    // Template picker: choosing a card fills the hidden input and closes the dialog.
    const card = closestData(event.target, "data-template-key");
    if (card) {
      const input = document.getElementById("template-input");
      const label = document.getElementById("template-chosen");
      if (input) input.value = card.dataset.templateKey;
      if (label) label.textContent = card.dataset.templateName;
      document.querySelectorAll(".template-card").forEach(function (c) {
        c.classList.toggle("selected", c === card);
        c.setAttribute("aria-pressed", c === card ? "true" : "false");
      });
      card.closest("dialog").close();
    }

    const clear = closestData(event.target, "data-clear");
    if (clear) document.getElementById(clear.dataset.clear).innerHTML = "";

    const confirmSubmit = closestData(event.target, "data-confirm-submit");
    if (confirmSubmit) {
      const dialog = confirmSubmit.closest("dialog");
      const form = document.querySelector("[data-confirm-dialog='" + dialog.id + "']");
      dialog.close();
      if (form) { form.dataset.confirmed = "yes"; form.requestSubmit(); }
    }
  });
  document.addEventListener("close", function (event) {
    if (event.target.tagName === "DIALOG" && opener) { opener.focus(); opener = null; }
  }, true);

  // Forms that ask first: data-confirm (a plain question) or data-confirm-dialog (a dialog).
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
    if (form.dataset.confirmDialog && form.dataset.confirmed !== "yes") {
      const dialog = document.getElementById(form.dataset.confirmDialog);
      if (dialog) { event.preventDefault(); opener = form.querySelector("[type=submit]"); dialog.showModal(); }
    }
  });

  // Preview clips play while hovered or focused.
  function preview(event, play) {
    const card = event.target.closest ? event.target.closest(".template-card") : null;
    const video = card ? card.querySelector("video[data-preview]") : null;
    if (!video) return;
    if (play) { video.play().catch(function () {}); } else { video.pause(); }
  }
  // Touch screens have no hover: there, the picker plays every preview once it is loaded.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!window.matchMedia("(hover: none)").matches) return;
    event.target.querySelectorAll("video[data-preview]").forEach(function (v) { v.play().catch(function () {}); });
  });
  document.addEventListener("mouseover", function (e) { preview(e, true); });
  document.addEventListener("mouseout", function (e) { preview(e, false); });
  document.addEventListener("focusin", function (e) { preview(e, true); });
  document.addEventListener("focusout", function (e) { preview(e, false); });

  // Live character counter for textareas with data-counter.
  document.addEventListener("input", function (event) {
    const field = event.target;
    if (!field.dataset || !field.dataset.counter) return;
    const counter = document.getElementById(field.dataset.counter);
    const max = parseInt(field.getAttribute("maxlength") || "500", 10);
    counter.querySelector("[data-count]").textContent = field.value.length;
    counter.classList.toggle("over", field.value.length >= max);
  });

  // Bulk selection: select-all on the page, count, and the button that needs a selection.
  function updateSelection() {
    const boxes = document.querySelectorAll("input[name=product_ids]");
    const checked = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
    document.querySelectorAll("[data-selected-count]").forEach(function (el) { el.textContent = checked; });
    document.querySelectorAll("[data-needs-selection]").forEach(function (el) { el.disabled = checked === 0; });
    document.querySelectorAll(".bulk-bar").forEach(function (bar) { bar.classList.toggle("active", checked > 0); });
    document.querySelectorAll("[data-select-all]").forEach(function (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    });
  }
  document.addEventListener("change", function (event) {
    const all = event.target.dataset ? event.target.dataset.selectAll : null;
    if (all) document.querySelectorAll("input[name=" + all + "]").forEach(function (b) { b.checked = event.target.checked; });
    updateSelection();
  });
  document.addEventListener("htmx:afterSettle", updateSelection);
  document.addEventListener("DOMContentLoaded", updateSelection);

  document.addEventListener("focusin", function (event) {
    if (event.target.dataset && event.target.dataset.selectOnFocus !== undefined) event.target.select();
  });

  // "Reconnecting…" while polls fail; cleared by the next poll that gets through.
  const badge = function () { return document.getElementById("connection-badge"); };
  document.addEventListener("htmx:sendError", function () { if (badge()) badge().hidden = false; });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful && badge()) badge().hidden = true;
  });
})();
