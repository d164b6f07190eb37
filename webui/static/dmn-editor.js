// The DMN editor of the administrators' file page (file-editor.js opens it): dmn-js's modeler,
// opened on the first decision table (a time limit or a department is a cell of it), with a
// tab per view (the decision requirements diagram, each decision). The validation names a
// decision, and its message the rule ("rule 3 input ...", "rules 2 and 5 overlap"): the
// decision's tab and those rows are marked, and showing a problem opens the table at the row.
"use strict";

(() => {
  const RULES = /\brules? (\d+)(?: and (\d+))?/;
  const VIEWS = ["drd", "decisionTable", "literalExpression", "boxedExpression"]; // dmn-js's views

  window.HazardFlowEditors = window.HazardFlowEditors || {};
  window.HazardFlowEditors.dmn = async (box, xml, page) => {
    if (typeof DmnJS === "undefined") throw new Error("dmn-js did not load");
    // Its texts in the page's language (admin.js), given to each view: dmn-js 17 gives a view
    // the additionalModules of its own options only, not those of `common`.
    const {translate} = window.HazardFlowEditors;
    const modules = translate ? [{translate: ["value", translate]}] : [];
    const modeler = new DmnJS({container: box, ...Object.fromEntries(VIEWS.map((view) => [view, {additionalModules: modules}]))});
    const tabs = page.querySelector(".modeler-views");
    const listeners = [];
    const hooked = new WeakSet();
    const marks = document.createElement("style"); // rows of problems, whatever the table redraws
    box.append(marks);
    let problems = [];

    const decisionOf = (view) => view && view.element;
    const viewOf = (id) => modeler.getViews().find((v) => v.type !== "drd" && v.element.id === id);
    const rulesOf = (problem) => {
      const view = viewOf(problem.element);
      const found = RULES.exec(problem.message);
      const rules = view && view.element.decisionLogic && view.element.decisionLogic.rule;
      if (!found || !rules) return [];
      return found.slice(1).filter(Boolean).map((n) => rules[Number(n) - 1]).filter(Boolean);
    };

    function hook() {
      const viewer = modeler.getActiveViewer();
      if (!viewer || hooked.has(viewer)) return;
      hooked.add(viewer);
      viewer.get("eventBus").on("commandStack.changed", () => listeners.forEach((listener) => listener()));
    }

    function drawTabs() {
      const active = modeler.getActiveView();
      const views = modeler.getViews();
      tabs.replaceChildren(...views.map((view) => {
        const button = document.createElement("button");
        button.type = "button";
        button.setAttribute("role", "tab");
        button.textContent = view.type === "drd" ? box.dataset.drdLabel : view.element.name || view.element.id;
        button.setAttribute("aria-selected", String(view === active));
        if (view.type !== "drd" && problems.some((p) => p.element === view.element.id)) button.classList.add("has-problem");
        button.addEventListener("click", () => modeler.open(view));
        return button;
      }));
      tabs.hidden = views.length < 2;
    }

    modeler.on("views.changed", () => { hook(); drawTabs(); });
    await modeler.importXML(xml);
    const first = modeler.getViews().find((v) => v.type === "decisionTable");
    if (first && modeler.getActiveView() !== first) await modeler.open(first);
    hook();
    drawTabs();

    return {
      get: async () => (await modeler.saveXML({format: true})).xml,
      async set(text) {
        await modeler.importXML(text);
        const table = modeler.getViews().find((v) => v.type === "decisionTable");
        if (table) await modeler.open(table);
      },
      onChange: (listener) => listeners.push(listener),
      mark(found) {
        problems = found;
        const rows = found.flatMap((problem) => rulesOf(problem).map((rule) => [rule.id, problem.severity]));
        marks.textContent = rows.map(([id, severity]) =>
          `.dmn-decision-table-container td[data-row-id="${CSS.escape(id)}"] { background: ${severity === "warning" ? "#fff4d6" : "#fdecea"} !important; }`,
        ).join("\n");
        drawTabs();
      },
      async show(problem) {
        const view = viewOf(problem.element);
        if (!view) return;
        if (modeler.getActiveView() !== view) await modeler.open(view);
        box.scrollIntoView({block: "nearest"});
        const [rule] = rulesOf(problem);
        const cell = rule && box.querySelector(`td[data-row-id="${CSS.escape(rule.id)}"]:not(.rule-index)`);
        if (cell) {
          cell.scrollIntoView({block: "center", inline: "nearest"});
          const editable = cell.querySelector("[contenteditable]");
          if (editable) editable.focus();
        }
      },
    };
  };
})();
