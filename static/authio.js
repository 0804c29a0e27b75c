// Authio hosted pages. Progressive enhancement only: every form works without
// this script. It guards against double submits (a second POST of a sign-in or
// sign-up form would be answered with a stale CSRF token or a duplicate
// account error) and is the place a later WebAuthn ceremony will extend.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) {
      return;
    }
    if (form.dataset.submitting === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "true";
    form.setAttribute("aria-busy", "true");
    // Disable after the browser has built the form data: a disabled submitter
    // would otherwise be left out of the POST.
    window.setTimeout(function () {
      form.querySelectorAll('button[type="submit"]').forEach(function (button) {
        button.disabled = true;
      });
    }, 0);
  });

  // Focus what needs fixing: the first field in error, else the page's alert (made focusable for the purpose),
  // so keyboard and screen-reader users land on it. The script is deferred: the document is parsed.
  (function focusFirstError() {
    var target = document.querySelector('[aria-invalid="true"]') || document.querySelector('[role="alert"]');
    if (!target) {
      return;
    }
    if (!target.matches("input, select, textarea, button, a[href]")) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
  })();

  // A page restored from the back/forward cache keeps its disabled buttons;
  // make the form usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) {
      return;
    }
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      delete form.dataset.submitting;
      form.removeAttribute("aria-busy");
      form.querySelectorAll('button[type="submit"]').forEach(function (button) {
        button.disabled = false;
      });
    });
  });
})();
