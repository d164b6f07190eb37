// The BPMN editor of the administrators' file page (file-editor.js opens it): bpmn-js's
// modeler, and a panel of plain fields for what the process-file contract reads from the
// selected element (processes/README.md §3-§5): the Spiff extension properties (`form`,
// `candidates`, `due`, `queue`, `notify`, `notify_to`, `notify_text`), a business rule
// task's decision, a script, a flow's condition, a timer, and a lane's role (its name) with
// the role's name for people (its documentation). Every change is a command of the modeler,
// so it can be undone. bpmn-js has no description of the spiffworkflow namespace, so it keeps
// those elements as generic ones, read and written here as they are: nothing of a file is
// lost, whatever else its spiffworkflow elements hold.
"use strict";

(() => {
  const SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core";
  const CONTRACT = new Set(["form", "candidates", "due", "queue", "notify", "notify_to", "notify_text"]);
  const TIMERS = ["timeDate", "timeDuration", "timeCycle"];
  const READABLE = 0.9; // the scale at which an element's name can be read

  const isSpiff = (element, local) => {
    const ns = element && element.$descriptor && element.$descriptor.ns;
    return Boolean(ns) && ns.uri === SPIFF && ns.localName === local;
  };
  const extensions = (bo) => (bo.extensionElements && bo.extensionElements.values) || [];
  const propertiesOf = (bo) => extensions(bo).find((e) => isSpiff(e, "properties"));
  const propertyItems = (bo) => {
    const found = propertiesOf(bo);
    return found ? (found.$children || []).filter((child) => isSpiff(child, "property")) : [];
  };
  const timerOf = (bo) => (bo.eventDefinitions || []).find((d) => d.$instanceOf("bpmn:TimerEventDefinition"));

  // bpmn:UserTask -> "User task", as bpmn-js names the kinds in its menus, in the page's
  // language (its translate, admin.js); two kinds are spelt otherwise there.
  const KIND_NAMES = {SubProcess: "Sub-process", EventBasedGateway: "Event-based gateway"};
  function typeLabel(type) {
    const local = type.replace(/^bpmn:/, "");
    const name = KIND_NAMES[local] || local.replace(/(?<=[a-z])([A-Z])/g, (upper) => " " + upper.toLowerCase());
    const {translate} = window.HazardFlowEditors;
    return translate ? translate(name) : name;
  }

  window.HazardFlowEditors = window.HazardFlowEditors || {};
  window.HazardFlowEditors.bpmn = async (box, xml, page) => {
    if (typeof BpmnJS === "undefined") throw new Error("bpmn-js did not load");
    const {translate} = window.HazardFlowEditors; // its texts in the page's language (admin.js)
    const modeler = new BpmnJS({container: box, additionalModules: translate ? [{translate: ["value", translate]}] : []});
    await modeler.importXML(xml);
    const canvas = modeler.get("canvas");
    const registry = modeler.get("elementRegistry");
    const modeling = modeler.get("modeling");
    const moddle = modeler.get("moddle");
    const factory = modeler.get("bpmnFactory");
    const overlays = modeler.get("overlays");
    const selection = modeler.get("selection");
    const eventBus = modeler.get("eventBus");
    canvas.zoom("fit-viewport", "auto");

    // The prefix the file gives the spiffworkflow namespace (new elements use it too).
    const definitions = modeler.getDefinitions();
    const declared = Object.entries(definitions.$attrs || {}).find(([key, uri]) => key.startsWith("xmlns:") && uri === SPIFF);
    const prefix = declared ? declared[0].slice("xmlns:".length) : "spiffworkflow";
    const createSpiff = (local, attributes) => moddle.createAny(`${prefix}:${local}`, SPIFF, attributes);

    // Adds a generic spiffworkflow element to the element's extension elements, in one command.
    function addExtension(element, created) {
      const bo = element.businessObject;
      const ext = bo.extensionElements;
      if (ext) {
        created.$parent = ext;
        modeling.updateModdleProperties(element, ext, {values: [...(ext.values || []), created]});
        return;
      }
      const made = moddle.create("bpmn:ExtensionElements", {values: [created]});
      created.$parent = made;
      made.$parent = bo;
      modeling.updateProperties(element, {extensionElements: made});
    }

    function removeExtension(element, gone) {
      const ext = element.businessObject.extensionElements;
      const left = ext.values.filter((e) => e !== gone);
      if (left.length) modeling.updateModdleProperties(element, ext, {values: left});
      else modeling.updateProperties(element, {extensionElements: undefined});
    }

    function readProperty(bo, key) {
      const item = propertyItems(bo).find((child) => child.name === key);
      return item ? item.value || "" : "";
    }

    function writeProperty(element, key, value) {
      const bo = element.businessObject;
      const item = propertyItems(bo).find((child) => child.name === key);
      const container = propertiesOf(bo);
      if (item && value === "") {
        const left = container.$children.filter((c) => c !== item);
        if (left.length) modeling.updateModdleProperties(element, container, {$children: left});
        else removeExtension(element, container); // no property left: no empty container
      } else if (item) {
        modeling.updateModdleProperties(element, item, {value});
      } else if (value !== "") {
        const created = createSpiff("property", {name: key, value});
        if (container) {
          created.$parent = container;
          modeling.updateModdleProperties(element, container, {$children: [...(container.$children || []), created]});
        } else {
          const made = createSpiff("properties", {});
          made.$children = [created];
          created.$parent = made;
          addExtension(element, made);
        }
      }
    }

    function expressionOf(owner, key) {
      const expression = owner && owner[key];
      return expression ? expression.body || "" : "";
    }

    function writeExpression(element, owner, key, value) {
      const expression = owner[key];
      if (value === "") modeling.updateModdleProperties(element, owner, {[key]: undefined});
      else if (expression) modeling.updateModdleProperties(element, expression, {body: value});
      else modeling.updateModdleProperties(element, owner, {[key]: factory.create("bpmn:FormalExpression", {body: value})});
    }

    // What each field reads and writes.
    const fields = {
      name: {
        read: (bo) => bo.name || "",
        write: (element, value) => modeling.updateLabel(element, value || null),
      },
      role: {
        read: (bo) => bo.name || "",
        write: (element, value) => modeling.updateProperties(element, {name: value || undefined}),
      },
      role_title: {
        read: (bo) => ((bo.documentation || [])[0] || {}).text || "",
        write(element, value) {
          const doc = (element.businessObject.documentation || [])[0];
          if (doc && value) modeling.updateModdleProperties(element, doc, {text: value});
          else if (value) modeling.updateProperties(element, {documentation: [factory.create("bpmn:Documentation", {text: value})]});
          else modeling.updateProperties(element, {documentation: []});
        },
      },
      decision: {
        read: (bo) => (extensions(bo).find((e) => isSpiff(e, "calledDecisionId")) || {}).$body || "",
        write(element, value) {
          const found = extensions(element.businessObject).find((e) => isSpiff(e, "calledDecisionId"));
          if (found && value) modeling.updateModdleProperties(element, found, {$body: value});
          else if (found) removeExtension(element, found);
          else if (value) {
            const created = createSpiff("calledDecisionId", {});
            created.$body = value;
            addExtension(element, created);
          }
        },
      },
      script: {
        read: (bo) => bo.script || "",
        write: (element, value) => modeling.updateProperties(element, {script: value || undefined}),
      },
      condition: {
        read: (bo) => expressionOf(bo, "conditionExpression"),
        write: (element, value) => writeExpression(element, element.businessObject, "conditionExpression", value),
      },
      timer: {
        read: (bo) => {
          const timer = timerOf(bo);
          const kind = TIMERS.find((key) => timer && timer[key]) || "timeDate";
          return expressionOf(timer, kind);
        },
        write(element, value) {
          const timer = timerOf(element.businessObject);
          const kind = document.getElementById("prop-timer-kind").value;
          const others = Object.fromEntries(TIMERS.filter((k) => k !== kind && timer[k]).map((k) => [k, undefined]));
          if (Object.keys(others).length && value) {
            const made = factory.create("bpmn:FormalExpression", {body: value});
            modeling.updateModdleProperties(element, timer, {...others, [kind]: made});
          } else writeExpression(element, timer, kind, value);
        },
      },
    };
    for (const key of CONTRACT) {
      fields[key] = {read: (bo) => readProperty(bo, key), write: (element, value) => writeProperty(element, key, value)};
    }

    // The panel: the fields of the selected element's kind.
    const panel = page.querySelector("#element-properties");
    let current = null;
    const applies = (kinds, bo) => kinds.split(" ").some((kind) =>
      kind === "node" ? bo.$instanceOf("bpmn:FlowNode")
        : kind === "timer" ? Boolean(timerOf(bo))
          : bo.$instanceOf(kind));

    function fill(element) {
      current = element && element.type === "label" ? element.labelTarget : element;
      const bo = current && current.businessObject;
      const usable = Boolean(bo) && !["bpmn:Process", "bpmn:Collaboration"].includes(current.type);
      panel.querySelector("[data-none]").hidden = Boolean(usable);
      panel.querySelector("[data-some]").hidden = !usable;
      if (!usable) { current = null; return; }
      panel.querySelector("[data-element-type]").textContent = typeLabel(bo.$type);
      panel.querySelector("[data-element-id]").textContent = bo.id;
      for (const row of panel.querySelectorAll("[data-prop]")) {
        row.hidden = !applies(row.dataset.for, bo);
        if (row.hidden) continue;
        const input = row.querySelector("input:not([type=hidden]), textarea");
        if (document.activeElement !== input) input.value = fields[row.dataset.prop].read(bo);
        if (row.dataset.prop === "timer") {
          const timer = timerOf(bo);
          document.getElementById("prop-timer-kind").value = TIMERS.find((k) => timer[k]) || "timeDate";
        }
      }
    }

    for (const row of panel.querySelectorAll("[data-prop]")) {
      const input = row.querySelector("input, textarea");
      input.addEventListener("change", () => {
        if (!current) return;
        const value = input.value.trim();
        if (value === fields[row.dataset.prop].read(current.businessObject)) return;
        fields[row.dataset.prop].write(current, value);
      });
    }
    document.getElementById("prop-timer-kind").addEventListener("change", () => {
      const input = document.getElementById("prop-timer");
      if (current && input.value.trim()) fields.timer.write(current, input.value.trim());
    });
    eventBus.on("selection.changed", ({newSelection}) => fill(newSelection.length === 1 ? newSelection[0] : null));
    eventBus.on("elements.changed", ({elements}) => {
      if (current && elements.some((e) => e === current || e.id === current.id)) fill(registry.get(current.id));
    });
    panel.hidden = false;

    // Zoom buttons, and finding an element by its name or id (a process has a hundred).
    const tools = page.querySelector(".modeler-tools");
    const zooms = {
      in: () => modeler.get("zoomScroll").stepZoom(1),
      out: () => modeler.get("zoomScroll").stepZoom(-1),
      fit: () => canvas.zoom("fit-viewport", "auto"),
    };
    for (const button of tools.querySelectorAll("[data-zoom]")) button.addEventListener("click", zooms[button.dataset.zoom]);
    const find = tools.querySelector("#find-element");
    const list = tools.querySelector("#element-list");
    const labelOf = (element) => (element.businessObject.name ? `${element.businessObject.name} (${element.id})` : element.id);
    const findable = () => registry.filter((e) => e.type !== "label" && e.businessObject && e.parent);
    const listElements = () => list.replaceChildren(...findable().map((element) => {
      const option = document.createElement("option");
      option.value = labelOf(element);
      return option;
    }));
    listElements();
    let listing = null;
    eventBus.on(["import.done", "elements.changed"], () => {
      clearTimeout(listing);
      listing = setTimeout(listElements, 300);
    });
    find.addEventListener("change", () => {
      const typed = find.value.trim();
      const element = findable().find((e) => labelOf(e) === typed || e.id === typed || e.businessObject.name === typed);
      if (element) reveal(element);
    });
    tools.hidden = false;

    // An element selected and in the middle of the view, at a scale its name can be read at.
    function reveal(element) {
      const plane = rootOf(element);
      if (plane && plane !== canvas.getRootElement()) canvas.setRootElement(plane);
      selection.select(element);
      const {outer, scale} = canvas.viewbox();
      const readable = Math.max(scale, READABLE);
      const [x, y] = element.waypoints
        ? [element.waypoints[0].x, element.waypoints[0].y]
        : [element.x + element.width / 2, element.y + element.height / 2];
      canvas.viewbox({
        x: x - outer.width / readable / 2,
        y: y - outer.height / readable / 2,
        width: outer.width / readable,
        height: outer.height / readable,
      });
    }

    function rootOf(element) {
      for (let up = element; up; up = up.parent) if (!up.parent) return up;
      return null;
    }

    return {
      get: async () => (await modeler.saveXML({format: true})).xml,
      async set(text) { await modeler.importXML(text); canvas.zoom("fit-viewport", "auto"); fill(null); },
      onChange: (listener) => eventBus.on("commandStack.changed", listener),
      // Each problem's element: marked, with a badge the reader sees at any zoom.
      mark(problems) {
        for (const problem of problems) {
          const element = registry.get(problem.element);
          if (!element) continue;
          canvas.addMarker(element, problem.severity === "warning" ? "hf-warning" : "hf-problem");
          const badge = document.createElement("span");
          badge.className = `hf-problem-badge ${problem.severity}`;
          badge.textContent = "!";
          badge.title = problem.message;
          overlays.add(element, "hf-problem", {position: {top: -10, right: 10}, html: badge});
        }
      },
      show(problem) {
        const element = registry.get(problem.element);
        if (!element) return;
        box.scrollIntoView({block: "nearest"});
        reveal(element);
      },
    };
  };
})();
