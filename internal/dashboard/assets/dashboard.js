// Signet dashboard: opens confirmation dialogs. Without this script every
// "Rotate Key" and "Revoke" link leads to a confirmation page instead.
"use strict";

document.addEventListener("click", function (e) {
  var opener = e.target.closest("[data-dialog]");
  if (opener) {
    var dialog = document.getElementById(opener.getAttribute("data-dialog"));
    if (dialog && typeof dialog.showModal === "function") {
      e.preventDefault();
      dialog.showModal();
    }
    return;
  }
  var closer = e.target.closest("[data-close]");
  if (closer) {
    var d = closer.closest("dialog");
    if (d) {
      e.preventDefault();
      d.close();
    }
    return;
  }
  // A click on the backdrop (the dialog element itself, outside its form) closes it.
  if (e.target.tagName === "DIALOG" && e.target.open) {
    var r = e.target.getBoundingClientRect();
    var inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
    if (!inside) e.target.close();
  }
});

// The rotation form's text and button say what it will do: the stylesheet
// shows them by :has(), this class does in browsers without it.
document.addEventListener("change", function (e) {
  if (!e.target.matches("[data-revoke-toggle]") || !e.target.form) return;
  e.target.form.classList.toggle("revoking", e.target.checked);
});

// A form is sent once: a second click while the page loads does nothing.
document.addEventListener("submit", function (e) {
  var form = e.target;
  if (form.getAttribute("method") !== "post") return;
  if (form.dataset.sent) {
    e.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
});

// Closing a dialog resets its checkbox, and with it the text and button.
document.addEventListener("close", function (e) {
  if (e.target.tagName !== "DIALOG") return;
  var form = e.target.querySelector("form");
  if (form && !form.dataset.sent) {
    form.reset();
    form.classList.remove("revoking");
  }
}, true);

// After an action, move focus to its notice so screen readers announce it.
document.addEventListener("DOMContentLoaded", function () {
  var notice = document.getElementById("notice");
  if (notice) notice.focus();
});
