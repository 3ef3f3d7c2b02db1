// Reelboard's few behaviours that HTML alone cannot do. No inline scripts anywhere (CSP).
(function () {
  "use strict";

  function closestData(el, name) { return el && el.closest ? el.closest("[" + name + "]") : null; }

  // Dialogs: open after htmx loads their body; close on [data-close-dialog]; Esc closes natively.
  let opener = null;
  function openDialog(dialog, from) {
    if (!dialog || dialog.open) return;
    opener = from || document.activeElement;
    dialog.showModal();
  }

  // The one confirmation dialog, for plain forms (data-confirm) and htmx requests (hx-confirm).
  let onConfirm = null;
  function askConfirm(message, label, from, yes) {
    const dialog = document.getElementById("confirm-dialog");
    // A selection bar's action says how many it acts on: {selected} becomes "3 videos".
    const noun = from && from.dataset ? from.dataset.confirmCounts : null;
    const counter = noun ? from.closest("[data-selection]").querySelector("[data-selected-count]") : null;
    if (counter) {
      const n = parseInt(counter.textContent, 10) || 0;
      message = message.replace("{selected}", n + " " + noun + (n === 1 ? "" : "s"));
    }
    if (!dialog) { if (window.confirm(message)) yes(); return; }
    document.getElementById("confirm-dialog-message").textContent = message;
    document.getElementById("confirm-dialog-yes").textContent = label || "Confirm";
    onConfirm = yes;
    openDialog(dialog, from);
  }

  document.addEventListener("click", function (event) {
    const openButton = closestData(event.target, "data-opens-dialog");
    if (openButton) openDialog(document.getElementById(openButton.dataset.opensDialog), openButton);
    const closeButton = closestData(event.target, "data-close-dialog");
    if (closeButton) closeButton.closest("dialog").close();

    if (event.target.id === "confirm-dialog-yes") {
      const yes = onConfirm;
      onConfirm = null;
      event.target.closest("dialog").close();
      if (yes) yes();
    }

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

    // The header's menu on narrow screens; a click elsewhere closes it and the workspace menu.
    const toggle = closestData(event.target, "data-menu-toggle");
    if (toggle) {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      toggle.closest(".site-header").classList.toggle("menu-open", open);
    }
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });

    // Sortable column headers set the filter form's sort, which asks for the list (and keeps
    // the choice when a filter changes next); without the form the link itself works.
    const sortLink = closestData(event.target, "data-sort-by");
    const filters = sortLink ? document.getElementById("video-filters") : null;
    if (filters && window.htmx) {
      event.preventDefault();
      filters.elements.sort.value = sortLink.dataset.sortBy;
      filters.elements.order.value = sortLink.dataset.sortOrder;
      filters.dispatchEvent(new Event("change", { bubbles: true }));
    }

    // The bulk bar's options fold away on narrow screens.
    const expand = closestData(event.target, "data-expands");
    if (expand) {
      const target = document.getElementById(expand.dataset.expands);
      const open = expand.getAttribute("aria-expanded") !== "true";
      expand.setAttribute("aria-expanded", open ? "true" : "false");
      if (target) target.classList.toggle("expanded", open);
    }
  });
  document.addEventListener("close", function (event) {
    if (event.target.tagName !== "DIALOG") return;
    if (event.target.id === "confirm-dialog") onConfirm = null;
    if (opener && document.contains(opener)) opener.focus();
    opener = null;
  }, true);

  // What the browser found wrong in a field, said beside it (its data-missing when it is empty)
  // until it is mended: the browser's own bubble fades in a few seconds.
  function sayBeside(field) {
    let note = document.getElementById(field.id + "-live-error");
    if (!note) {
      note = document.createElement("small");
      note.id = field.id + "-live-error";
      note.className = "field-error";
      field.insertAdjacentElement("afterend", note);
      field.setAttribute("aria-describedby", ((field.getAttribute("aria-describedby") || "") + " " + note.id).trim());
    }
    note.textContent = (field.validity.valueMissing && field.dataset.missing) || field.validationMessage;
    note.hidden = false;
    field.setAttribute("aria-invalid", "true");
    field.addEventListener("input", function mended() {
      if (!field.validity.valid) return;
      note.hidden = true;
      field.removeAttribute("aria-invalid");
      field.removeEventListener("input", mended);
    });
  }

  // Forms that ask first: data-confirm (the shared dialog) or data-confirm-dialog (their own).
  // A field this page found wrong as it was typed (setCustomValidity) is shown, not sent, and so
  // is, in a form that asks first, any field the browser knows is wrong (a product not chosen, a
  // length out of range): nobody is asked to spend a video on a form that cannot make one. The
  // forms are novalidate so that every other rule is the server's, said beside its field.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    const asks = form.dataset.confirm || form.dataset.confirmDialog;
    const wrong = Array.prototype.find.call(form.elements, function (el) {
      return el.validity && (el.validity.customError || (asks && !el.validity.valid));
    });
    if (wrong) {
      event.preventDefault();
      if (!wrong.validity.customError) sayBeside(wrong);
      wrong.reportValidity();
      return;
    }
    if (form.dataset.confirm && form.dataset.confirmed !== "yes") {
      event.preventDefault();
      const submitter = event.submitter;
      askConfirm(form.dataset.confirm, form.dataset.confirmLabel, submitter, function () {
        form.dataset.confirmed = "yes";
        form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      });
      return;
    }
    if (form.dataset.confirmDialog && form.dataset.confirmed !== "yes") {
      const dialog = document.getElementById(form.dataset.confirmDialog);
      if (dialog) { event.preventDefault(); openDialog(dialog, form.querySelector("[type=submit]")); }
    }
  });
  document.addEventListener("htmx:confirm", function (event) {
    if (!event.detail.question) return;
    event.preventDefault();
    const elt = event.detail.elt;
    askConfirm(event.detail.question, elt.dataset.confirmLabel, elt, function () { event.detail.issueRequest(true); });
  });

  // A dialog marked data-opens-on-content opens when htmx fills it and closes when it is emptied
  // (the bulk confirmation: its body is the server's count).
  document.addEventListener("htmx:afterSettle", function (event) {
    document.querySelectorAll("dialog[data-opens-on-content]").forEach(function (dialog) {
      const filled = dialog.textContent.trim() !== "";
      if (filled && !dialog.open && dialog.contains(event.detail.target)) openDialog(dialog);
      if (!filled && dialog.open) dialog.close();
    });
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

  // A field the merchant typed in keeps their words: data-marks-edited names the hidden input
  // that says so (the script, which the page otherwise rewrites as the instructions change).
  document.addEventListener("input", function (event) {
    const marks = event.target.dataset ? event.target.dataset.marksEdited : null;
    const flag = marks ? event.target.form.querySelector("[name=" + marks + "]") : null;
    if (flag) flag.value = "yes";
  });

  // A colour picker's hex value, shown as it is picked (data-shows-value names where).
  document.addEventListener("input", function (event) {
    const target = event.target.dataset ? event.target.dataset.showsValue : null;
    const shown = target ? document.getElementById(target) : null;
    if (shown) shown.textContent = event.target.value.toUpperCase();
  });

  // Live character counter for textareas with data-counter.
  document.addEventListener("input", function (event) {
    const field = event.target;
    if (!field.dataset || !field.dataset.counter) return;
    const counter = document.getElementById(field.dataset.counter);
    const max = parseInt(field.dataset.counterMax || field.getAttribute("maxlength") || "500", 10);
    // data-counts="lines": what the server counts, the characters of the lines, each trimmed
    const lines = field.value.split(/\r?\n/).map(function (line) { return line.trim(); });
    const count = field.dataset.counts === "lines"
      ? lines.reduce(function (sum, line) { return sum + line.length; }, 0)
      : field.value.length;
    const problems = field.dataset.maxLines ? scriptProblems(lines, count, max, field.dataset) : "";
    counter.querySelector("[data-count]").textContent = count;
    counter.classList.toggle("over", count > max || (field.maxLength > 0 && count >= max) || problems !== "");
    if (!field.dataset.maxLines) return;
    // said beside the field until it is mended, not only in the bubble that sending shows
    field.setCustomValidity(problems);
    const said = document.getElementById(field.dataset.liveError);
    if (said) { said.textContent = problems; said.hidden = problems === ""; }
    if (problems) field.setAttribute("aria-invalid", "true");
    else if (field.dataset.saidInvalid) field.removeAttribute("aria-invalid");
    field.dataset.saidInvalid = problems ? "yes" : "";
  });

  // A script over its limits is refused before the form asks to spend a video (the server's
  // contract says the same, in generation/contract.py): lines numbered as on the screen.
  function scriptProblems(lines, count, max, limits) {
    const problems = [];
    const spoken = lines.filter(function (line) { return line.length > 0; }).length;
    if (spoken > +limits.maxLines) problems.push("the script has " + spoken + " lines, at most " + limits.maxLines);
    const long = [];
    lines.forEach(function (line, i) { if (line.length > +limits.maxLineChars) long.push(i + 1); });
    if (long.length === 1) problems.push("line " + long[0] + " has more than " + limits.maxLineChars + " characters: split it");
    if (long.length > 1) problems.push("lines " + long.join(", ") + " have more than " + limits.maxLineChars + " characters: split them");
    if (count > max) problems.push("the script has " + count + " characters, at most " + max);
    const message = problems.join("; ");
    return message && message.charAt(0).toUpperCase() + message.slice(1) + ".";
  }

  // Row selection (products for bulk generation, videos for bulk actions): select-all on the
  // page, the count, the buttons that need a selection, and the bar that shows while one exists.
  function updateSelection() {
    document.querySelectorAll("[data-selection]").forEach(function (scope) {
      const name = scope.dataset.selection;
      const boxes = document.querySelectorAll("input[type=checkbox][name=" + name + "]");
      const checked = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
      scope.querySelectorAll("[data-selected-count]").forEach(function (el) { el.textContent = checked; });
      scope.querySelectorAll("[data-selected-plural]").forEach(function (el) { el.hidden = checked === 1; });
      scope.querySelectorAll("[data-needs-selection]").forEach(function (el) { el.disabled = checked === 0; });
      scope.classList.toggle("active", checked > 0);
    });
    document.querySelectorAll("[data-select-all]").forEach(function (all) {
      const boxes = document.querySelectorAll("input[type=checkbox][name=" + all.dataset.selectAll + "]");
      const checked = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    });
  }
  document.addEventListener("change", function (event) {
    const all = event.target.dataset ? event.target.dataset.selectAll : null;
    if (all) document.querySelectorAll("input[type=checkbox][name=" + all + "]").forEach(function (b) { b.checked = event.target.checked; });
    updateSelection();
  });
  document.addEventListener("htmx:afterSettle", updateSelection);
  document.addEventListener("DOMContentLoaded", updateSelection);

  // Links for other people start with PUBLIC_BASE_URL: their note shows when this page was
  // opened at another address (the server cannot tell behind a proxy; the browser can).
  function showAddressNotes() {
    document.querySelectorAll("[data-public-origin]").forEach(function (note) {
      note.hidden = new URL(note.dataset.publicOrigin).origin === window.location.origin;
      note.querySelectorAll("[data-current-origin]").forEach(function (el) { el.textContent = window.location.origin; });
    });
  }
  document.addEventListener("htmx:afterSettle", showAddressNotes);
  document.addEventListener("DOMContentLoaded", showAddressNotes);

  document.addEventListener("focusin", function (event) {
    if (event.target.dataset && event.target.dataset.selectOnFocus !== undefined) event.target.select();
  });

  // A copy button (data-copy="<id of a field>") puts the field's value on the clipboard and
  // says so for a moment; without the Clipboard API (a plain-http address), the old command.
  function copyField(button) {
    const field = document.getElementById(button.dataset.copy);
    if (!field) return;
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    const copied = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 2000);
    };
    const fallback = function () { field.select(); if (document.execCommand("copy")) copied(); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(field.value).then(copied, fallback);
    else fallback();
  }
  document.addEventListener("click", function (event) {
    const button = closestData(event.target, "data-copy");
    if (button) copyField(button);
  });

  // Polling respects the reader: a tab in the background sends no poll, and catches up with
  // one poll as soon as it is shown again (hx-trigger "every 2s, rb-visible"); the timer's next
  // tick, if it comes right after the catch-up, is skipped, so it stays one poll per interval.
  let lastPoll = 0;
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!event.detail.elt.matches("[data-poll]")) return;
    const now = Date.now();
    if (document.visibilityState !== "visible" || now - lastPoll < 1500) { event.preventDefault(); return; }
    lastPoll = now;
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible" || !window.htmx) return;
    document.querySelectorAll("[data-poll][hx-get]").forEach(function (el) { window.htmx.trigger(el, "rb-visible"); });
  });

  // "Reconnecting…" while polls fail; cleared by the next poll that gets through.
  const badge = function () { return document.getElementById("connection-badge"); };
  document.addEventListener("htmx:sendError", function () { if (badge()) badge().hidden = false; });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful && badge()) badge().hidden = true;
  });
})();
