// Small helpers every page may use; the pages work without them.

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
    const input = checked || box.querySelector("select, textarea, input:not([type=radio]):not([type=hidden]):not([type=file])");
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

for (const form of document.querySelectorAll("form[data-conditional]")) {
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
