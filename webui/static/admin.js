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

// The process editors' own texts in the page's language: bpmn-js and dmn-js ask a translate
// service for every text they show, in English with {name} placeholders ("Open {element}");
// bpmn-editor.js and dmn-editor.js give them this one, which looks the text up in the
// dictionary the edit page carries (#editor-texts, webui/editor_texts.py). A text it does not
// have stays English; a placeholder without a value stays as it is.
window.HazardFlowEditors = window.HazardFlowEditors || {};
window.HazardFlowEditors.translate = (() => {
  let texts = null;
  const dictionary = () => {
    if (texts) return texts;
    const data = document.getElementById("editor-texts");
    try { texts = data ? JSON.parse(data.textContent) : {}; } catch { texts = {}; }
    return texts;
  };
  return (template, replacements) => {
    const found = dictionary();
    const text = Object.hasOwn(found, template) ? found[template] : template;
    return text.replace(/{([^}]+)}/g, (whole, key) => {
      // dmn-js writes some with spaces ("e.g. { example }")
      const value = replacements && Object.hasOwn(replacements, key.trim()) ? replacements[key.trim()] : undefined;
      return value === undefined || value === null ? whole : String(value);
    });
  };
})();
