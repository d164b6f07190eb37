// The case page's diagram: the case's own process version (bpmn-js navigated viewer), what it
// has done and where it is now; buttons to zoom in, zoom out, fit and find the current step;
// two fingers move and zoom it on a phone (one finger scrolls the page); each lane's name
// stays readable at its left edge; a still copy of the whole diagram for printing.
"use strict";

(() => {
  const box = document.getElementById("diagram");
  if (!box || typeof BpmnJS === "undefined") return;
  const section = box.closest("[data-diagram]") || document;
  const NARROW = 700; // below this width the diagram opens at the current step, readable
  const READABLE = 0.9; // the scale at which a step's name can be read

  function boundsOf(elements) {
    const xs = elements.flatMap((e) => [e.x, e.x + (e.width || 0)]);
    const ys = elements.flatMap((e) => [e.y, e.y + (e.height || 0)]);
    const x = Math.min(...xs);
    const y = Math.min(...ys);
    return {x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y};
  }

  async function show() {
    const response = await fetch(box.dataset.src, {credentials: "same-origin"});
    const data = await response.json();
    const viewer = new BpmnJS({container: box});
    await viewer.importXML(data.xml);
    const canvas = viewer.get("canvas");
    const registry = viewer.get("elementRegistry");
    const zoomScroll = viewer.get("zoomScroll");
    for (const id of data.completed) if (registry.get(id)) canvas.addMarker(id, "hf-done");
    for (const id of data.active) if (registry.get(id)) canvas.addMarker(id, "hf-now");
    const active = data.active.map((id) => registry.get(id)).filter((e) => e && !e.waypoints);
    // The steps themselves: a stage subprocess is active while a step inside it is, and
    // framing the whole stage would show it too small to read on a phone.
    const within = (element, outer) => {
      for (let up = element.parent; up; up = up.parent) if (up === outer) return true;
      return false;
    };
    const now = active.filter((e) => !active.some((other) => within(other, e)));

    const fit = () => canvas.zoom("fit-viewport", "auto");
    const toNow = () => {
      const area = boundsOf(now);
      const size = canvas.viewbox().outer;
      const scale = Math.min(READABLE, size.width / (area.width + 80), size.height / (area.height + 80));
      canvas.viewbox({
        x: area.x + area.width / 2 - size.width / scale / 2,
        y: area.y + area.height / 2 - size.height / scale / 2,
        width: size.width / scale,
        height: size.height / scale,
      });
    };
    const actions = {
      "zoom-in": () => zoomScroll.stepZoom(1),
      "zoom-out": () => zoomScroll.stepZoom(-1),
      fit,
      now: toNow,
    };
    for (const button of section.querySelectorAll("[data-diagram-action]")) {
      const action = actions[button.dataset.diagramAction];
      if (button.dataset.diagramAction === "now" && !now.length) continue;
      button.hidden = false;
      button.addEventListener("click", () => action());
    }
    const controls = section.querySelector(".diagram-controls");
    if (controls) controls.hidden = false;

    laneNames(viewer);
    touch(box, canvas);
    if (box.clientWidth < NARROW && now.length) toNow();
    else fit();
    await printCopy(viewer);
    box.dataset.ready = "true";
  }

  // Each lane's name in a label that keeps its size at any zoom and stays at the left edge
  // of the diagram while the lane is in view (the drawn name shrinks with the diagram).
  function laneNames(viewer) {
    const canvas = viewer.get("canvas");
    const lanes = viewer.get("elementRegistry").filter((e) => e.type === "bpmn:Lane");
    const rail = document.createElement("div");
    rail.className = "lane-names";
    rail.setAttribute("aria-hidden", "true"); // the drawn lanes carry the same names
    const labels = lanes.map((lane) => {
      const label = document.createElement("span");
      label.className = "lane-name";
      label.dataset.lane = lane.id;
      label.textContent = lane.businessObject.name || "";
      rail.append(label);
      return [lane, label];
    });
    box.append(rail);
    const place = () => {
      const view = canvas.viewbox();
      const height = box.clientHeight;
      for (const [lane, label] of labels) {
        const top = (lane.y - view.y) * view.scale;
        const bottom = top + lane.height * view.scale;
        const visible = label.textContent && bottom > 0 && top < height;
        label.hidden = !visible;
        if (!visible) continue;
        const room = Math.min(bottom, height) - Math.max(top, 0);
        label.style.top = `${Math.max(top, 0)}px`;
        label.style.maxHeight = `${Math.max(room, 0)}px`;
        label.classList.toggle("cramped", room < 20);
      }
    };
    viewer.get("eventBus").on("canvas.viewbox.changed", place);
    place();
  }

  // Two fingers: move and pinch-zoom the diagram; one finger is left to scroll the page.
  function touch(element, canvas) {
    let last = null;
    const gesture = (touches) => {
      const [a, b] = [touches[0], touches[1]];
      const rect = element.getBoundingClientRect();
      return {
        x: (a.clientX + b.clientX) / 2 - rect.left,
        y: (a.clientY + b.clientY) / 2 - rect.top,
        distance: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY),
      };
    };
    element.addEventListener("touchstart", (event) => {
      if (event.touches.length === 2) { last = gesture(event.touches); event.preventDefault(); }
    }, {passive: false});
    element.addEventListener("touchmove", (event) => {
      if (event.touches.length !== 2 || !last) return;
      event.preventDefault();
      const next = gesture(event.touches);
      canvas.scroll({dx: next.x - last.x, dy: next.y - last.y});
      if (last.distance > 0 && next.distance > 0) {
        const scale = Math.min(4, Math.max(0.05, canvas.zoom() * (next.distance / last.distance)));
        canvas.zoom(scale, {x: next.x, y: next.y});
      }
      last = next;
    }, {passive: false});
    const end = (event) => { if (event.touches.length < 2) last = null; };
    element.addEventListener("touchend", end);
    element.addEventListener("touchcancel", end);
  }

  // A still copy of the whole diagram, scaled to the paper by the print stylesheet (the live
  // one keeps the size of the screen).
  async function printCopy(viewer) {
    const holder = section.querySelector(".diagram-print");
    if (!holder) return;
    const {svg} = await viewer.saveSVG();
    const copy = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement;
    if (copy.nodeName !== "svg") return;
    for (const node of copy.querySelectorAll("[data-element-id]")) {
      node.removeAttribute("data-element-id"); // the live diagram alone answers to its ids
    }
    copy.removeAttribute("width");
    copy.removeAttribute("height");
    copy.setAttribute("preserveAspectRatio", "xMinYMin meet");
    holder.replaceChildren(document.importNode(copy, true));
  }

  show().catch((error) => {
    box.dataset.ready = "failed";
    const failed = section.querySelector("[data-diagram-failed]");
    if (failed) failed.hidden = false;
    console.error(error);
  });
})();
