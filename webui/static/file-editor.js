// The administrators' editor of one process file (templates/admin/edit.html). The page's
// text field holds the file and is what the form sends; a BPMN or DMN file is edited in its
// modeler (bpmn-editor.js, dmn-editor.js register themselves in window.HazardFlowEditors),
// whose XML goes back into the text field after every change. Otherwise the text field is
// the editor, with line numbers, and a form file gets a live preview drawn by the server
// with the task pages' renderer. The draft is kept in this browser (localStorage, one per
// file) until it is deployed; leaving the page with a draft asks first. The problems of a
// validation that name an element of this file are marked in the editor, and a click on
// one shows the element.
"use strict";

(() => {
  const root = document.getElementById("file-editor");
  if (!root) return;
  const form = document.getElementById("file-form");
  const source = document.getElementById("file-content");
  const base = Number(root.dataset.base);
  const KEY = `hazardflow.draft:${root.dataset.name}`;
  const PREVIEW_DELAY = 400; // ms after the last keystroke

  const drafts = {
    get() {
      try { return JSON.parse(localStorage.getItem(KEY) || "null"); } catch { return null; }
    },
    put(content, on = base) {
      try {
        localStorage.setItem(KEY, JSON.stringify({base: on, content, saved: new Date().toISOString()}));
      } catch { /* storage full or refused: the draft lives only in the page */ }
    },
    drop() {
      try { localStorage.removeItem(KEY); } catch { /* nothing kept */ }
    },
  };

  // The text field as the editor: line numbers beside it, kept in step as it scrolls.
  function textEditor() {
    const gutter = root.querySelector(".gutter");
    let shown = 0;
    const number = () => {
      const count = source.value.split("\n").length;
      if (count === shown) return;
      shown = count;
      gutter.textContent = Array.from({length: count}, (_, i) => i + 1).join("\n");
    };
    number();
    source.addEventListener("input", number);
    source.addEventListener("scroll", () => { gutter.scrollTop = source.scrollTop; });
    root.classList.add("numbered");
    return {
      get: () => source.value,
      set(text) { source.value = text; number(); },
      onChange: (listener) => source.addEventListener("input", listener),
      mark() {},
      // A form's problem names a key ("x-public", "properties/category", "x-checks[0]"):
      // the first place the text has it is selected.
      show(problem) {
        const key = problem.element.split(/[/[]/).filter(Boolean).pop().replace(/]$/, "");
        const at = source.value.indexOf(`"${key}"`);
        source.focus();
        if (at < 0) return;
        source.setSelectionRange(at, at + key.length + 2);
        const line = source.value.slice(0, at).split("\n").length;
        source.scrollTop = Math.max(0, (line - 3) * parseFloat(getComputedStyle(source).lineHeight));
      },
    };
  }

  async function openEditor() {
    const factory = (window.HazardFlowEditors || {})[root.dataset.editor];
    if (factory) {
      try {
        const editor = await factory(document.getElementById("modeler"), source.value, root);
        root.classList.add("modeler-ready");
        return editor;
      } catch (error) {
        console.error(error);
        const failed = root.querySelector("[data-modeler-failed]");
        if (failed) failed.hidden = false;
      }
    }
    return textEditor();
  }

  function tell(kind, draft) {
    const notice = root.querySelector(".draft-notice");
    const text = notice.querySelector("[data-draft-text]");
    const saved = new Date(draft.saved).toLocaleString(document.documentElement.lang);
    text.textContent = text.dataset[kind].replace("{time}", saved).replace("{id}", draft.base);
    notice.querySelector("[data-draft-restore]").hidden = kind !== "older";
    notice.hidden = false;
  }

  // The form preview: the server draws the draft with the task pages' renderer.
  function previewer() {
    const box = document.getElementById("form-preview");
    if (!box) return () => {};
    let timer = null;
    let asked = 0;
    box.addEventListener("submit", (event) => event.preventDefault());
    const draw = async () => {
      const mine = ++asked;
      const body = new FormData();
      body.append("csrf_token", form.elements.csrf_token.value);
      body.append("content", source.value);
      const response = await fetch(box.dataset.src, {method: "POST", body, credentials: "same-origin"});
      if (!response.ok || mine !== asked) return; // a newer draft is on its way
      const typed = box.querySelector("form") ? [...new FormData(box.querySelector("form"))] : [];
      box.innerHTML = await response.text();
      const redrawn = box.querySelector("form");
      for (const [field, value] of typed) { // what was tried in the preview stays
        const input = redrawn && redrawn.elements.namedItem(field);
        if (input instanceof RadioNodeList) {
          for (const choice of input) if (choice.value === value) choice.checked = true;
        } else if (input && input.type === "radio") input.checked = input.value === value;
        else if (input && input.type !== "file") input.value = value;
      }
      if (window.HazardFlow) window.HazardFlow.enhance(box);
      box.dataset.drawn = String(mine);
    };
    draw();
    return () => { clearTimeout(timer); timer = setTimeout(draw, PREVIEW_DELAY); };
  }

  async function start() {
    const editor = await openEditor();
    const refreshPreview = previewer();
    const stored = drafts.get();
    let leaving = false;

    if (root.hasAttribute("data-deployed")) {
      drafts.drop(); // deployed: the file shown is the draft
      history.replaceState(null, "", window.location.pathname);
    } else if (root.hasAttribute("data-answer")) {
      if (stored) drafts.put(source.value); // the page shows the draft that was sent
    } else if (stored && stored.content !== source.value) {
      if (stored.base === base) {
        await editor.set(stored.content);
        source.value = stored.content;
        refreshPreview();
        tell("restored", stored);
      } else tell("older", stored);
    }

    root.querySelector("[data-draft-restore]").addEventListener("click", async () => {
      const draft = drafts.get();
      if (!draft) return;
      await editor.set(draft.content);
      source.value = draft.content;
      drafts.put(draft.content);
      refreshPreview();
      tell("restored", drafts.get());
    });
    root.querySelector("[data-draft-discard]").addEventListener("click", () => {
      drafts.drop();
      leaving = true;
      window.location.assign(root.dataset.editUrl); // the deployed file again
    });

    // Every change: the XML into the text field (which the form sends) and the draft kept.
    let pending = Promise.resolve();
    let synced = true;
    editor.onChange(() => {
      synced = false;
      pending = Promise.resolve(editor.get()).then((text) => {
        source.value = text;
        drafts.put(text);
        synced = true;
        refreshPreview();
      });
    });
    // A change made just before a button was pressed is written first (before admin.js asks
    // to confirm a deploy: this listener runs first, on the way down).
    document.addEventListener("submit", (event) => {
      if (event.target !== form || synced) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      const submitter = event.submitter;
      pending.then(() => form.requestSubmit(submitter));
    }, true);
    window.addEventListener("submit", (event) => {
      if (event.target === form && !event.defaultPrevented) leaving = true;
    });
    window.addEventListener("beforeunload", (event) => {
      if (leaving || !drafts.get()) return;
      event.preventDefault();
      event.returnValue = "";
    });

    const problems = [...root.querySelectorAll("table.problems tr[data-element]")].map((row) => ({
      element: row.dataset.element,
      message: row.dataset.message || "",
      severity: row.classList.contains("warning") ? "warning" : "error",
    }));
    editor.mark(problems);
    for (const button of root.querySelectorAll("[data-show-element]")) {
      button.addEventListener("click", () => {
        const row = button.closest("tr");
        editor.show(problems.find((p) => p.element === row.dataset.element && p.message === (row.dataset.message || "")));
      });
    }
    root.dataset.ready = "true";
  }

  start();
})();
