"use strict";
// Administrators' forms that change what everyone works with ask first (data-confirm). A form
// with data-confirm-button asks only when sent with that button (not when only validating).
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    const only = form.dataset.confirmButton;
    if (only && event.submitter && event.submitter.name !== only) return;
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}
