// Small helpers every page may use; the pages work without them.

// A print button (data-print): the browser's print dialog, with the page's print stylesheet.
for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}

// "Use my location" on a location group: fills its lat/lng fields from the phone's position.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-locate]");
  if (!button) return;
  const name = button.dataset.locate;
  const status = document.querySelector(`[data-locate-status="${name}"]`);
  const failed = () => { if (status) status.textContent = button.dataset.failed; };
  if (!navigator.geolocation) return failed();
  button.disabled = true;
  navigator.geolocation.getCurrentPosition(
    (position) => {
      button.disabled = false;
      document.getElementById(`f-${name}.lat`).value = position.coords.latitude.toFixed(6);
      document.getElementById(`f-${name}.lng`).value = position.coords.longitude.toFixed(6);
      if (status) status.textContent = "✓";
    },
    () => { button.disabled = false; failed(); },
    {enableHighAccuracy: true, timeout: 15000},
  );
});

// Conditional fields: a field the form asks for only under its if/then rules carries their
// `if` schemas (data-show-when) and is shown while one of them holds; a hidden field is
// disabled, so it is not sent. Only the parts of JSON Schema such conditions use are read
// here; a condition with any other keyword shows the field rather than hide it.
const KNOWN = new Set(["$comment", "title", "description"]);

function valueMatches(schema, value) {
  if (typeof schema !== "object" || schema === null) return schema !== false;
  for (const [key, expected] of Object.entries(schema)) {
    if (key === "const") { if (value !== expected) return false; }
    else if (key === "enum") { if (!expected.includes(value)) return false; }
    else if (key === "not") { if (valueMatches(expected, value)) return false; }
    else if (key === "minimum") { if (!(value >= expected)) return false; }
    else if (key === "maximum") { if (!(value <= expected)) return false; }
    else if (key === "type" || KNOWN.has(key)) { /* the value's type is the form's */ }
    else return true;
  }
  return true;
}

function holds(schema, values) {
  if (typeof schema !== "object" || schema === null) return schema !== false;
  for (const [key, expected] of Object.entries(schema)) {
    if (key === "required") {
      if (!expected.every((name) => values[name] !== undefined)) return false;
    } else if (key === "properties") {
      for (const [name, sub] of Object.entries(expected)) {
        if (values[name] !== undefined && !valueMatches(sub, values[name])) return false;
      }
    } else if (key === "allOf") { if (!expected.every((s) => holds(s, values))) return false; }
    else if (key === "anyOf") { if (!expected.some((s) => holds(s, values))) return false; }
    else if (key === "not") { if (holds(expected, values)) return false; }
    else if (!KNOWN.has(key)) return true;
  }
  return true;
}

function formValues(form) {
  const values = JSON.parse(form.dataset.fixed || "{}");
  for (const box of form.querySelectorAll(":scope [data-field][data-kind]")) {
    const name = box.dataset.field;
    if (name.includes(".")) continue;  // the conditions test the form's own fields
    const checked = box.querySelector("input[type=radio]:checked");
    const input = checked || box.querySelector("select, textarea, input:not([type=radio]):not([type=hidden]):not([type=file]):not([type=search])");
    if (!input || box.querySelector("input[type=radio]") && !checked) continue;
    const raw = input.value.trim();
    if (raw === "") continue;
    if (raw === "true" || raw === "false") values[name] = raw === "true";
    else if (["integer", "number"].includes(box.dataset.kind) && !isNaN(Number(raw))) values[name] = Number(raw);
    else values[name] = raw;
  }
  return values;
}

function applyConditions(form) {
  const values = formValues(form);
  for (const box of form.querySelectorAll("[data-show-when]")) {
    const show = JSON.parse(box.dataset.showWhen).some((schema) => holds(schema, values));
    box.hidden = !show;
    for (const input of box.querySelectorAll("input, select, textarea")) input.disabled = !show;
  }
}

function setUpConditions(form) {
  applyConditions(form);
  form.addEventListener("input", () => applyConditions(form));
  form.addEventListener("change", () => applyConditions(form));
  // A draft keeps everything typed, shown or not: it comes back as it was left.
  form.addEventListener("submit", (event) => {
    if (event.submitter && "keepsHidden" in event.submitter.dataset) {
      for (const input of form.querySelectorAll("[data-show-when] :disabled")) input.disabled = false;
    }
  });
}

for (const form of document.querySelectorAll("form[data-conditional]")) setUpConditions(form);

// A grid chosen by name: the search box above a grid's choices narrows them as one types
// (every word must match the grid's name, the grids above it or its code); one match is
// chosen at once. Without this script the choices are still there, grouped by district and town.
function chosenName(option) {
  const group = option.parentElement && option.parentElement.tagName === "OPTGROUP" ? option.parentElement.label : "";
  return group ? `${group} › ${option.textContent}` : option.textContent;
}

function setUpGridSearch(search) {
  const select = document.getElementById(search.dataset.gridSearch);
  const status = document.querySelector(`[data-grid-matches="${search.dataset.gridSearch}"]`);
  if (!select) return;
  const placeholder = select.options[0];
  const groups = [...select.children].filter((child) => child !== placeholder).map((child) => ({
    element: child,
    options: child.tagName === "OPTGROUP" ? [...child.children] : [child],
  }));
  search.hidden = false;
  search.addEventListener("input", () => {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const chosen = select.value;
    const matches = [];
    select.replaceChildren(placeholder);
    for (const group of groups) {
      const shown = group.options.filter((option) => {
        const text = (option.dataset.search || option.textContent).toLowerCase();
        return words.every((word) => text.includes(word));
      });
      if (!shown.length) continue;
      matches.push(...shown);
      if (group.element.tagName === "OPTGROUP") {
        group.element.replaceChildren(...shown);
        select.append(group.element);
      } else select.append(...shown);
    }
    if (matches.length === 1) select.value = matches[0].value;
    else select.value = matches.some((option) => option.value === chosen) ? chosen : "";
    if (status) {
      status.textContent = !words.length ? ""
        : !matches.length ? search.dataset.none
        : matches.length === 1 ? search.dataset.one.replace("{name}", chosenName(matches[0]))
        : search.dataset.some.replace("{n}", matches.length);
    }
    select.dispatchEvent(new Event("change", {bubbles: true}));
  });
  // Enter in the search box chooses what it found rather than sending the form.
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); select.focus(); }
  });
}

for (const search of document.querySelectorAll("[data-grid-search]")) setUpGridSearch(search);

// Forms drawn after the page loaded (the administrators' live preview of a form file) get
// the same conditional fields and grid search.
window.HazardFlow = Object.assign(window.HazardFlow || {}, {
  enhance(root) {
    for (const form of root.querySelectorAll("form[data-conditional]")) setUpConditions(form);
    for (const search of root.querySelectorAll("[data-grid-search]")) setUpGridSearch(search);
  },
});
