// The map of open hazards by grid (templates/map/map.html): the grids' outlines and the
// reported locations from /map/data.json, drawn with the vendored Leaflet on a plain
// background. No tile layer and no other request: the map works without a network.
// One level of the grid tree is filled at a time (coloured by its open cases, as the legend
// says; a red edge when some are overdue), the levels above it drawn as outlines.
(function () {
  "use strict";
  const box = document.getElementById("hazard-map");
  if (!box || !window.L) return;
  const text = (key) => box.dataset["t" + key] || key;
  const levelLabels = JSON.parse(box.dataset.levels || "{}");

  // the legend's classes and their colours (static/app.css .bin-N): one source for both
  const bins = Array.from(document.querySelectorAll("#map-legend .map-bin")).map((item) => ({
    min: Number(item.dataset.min),
    max: item.dataset.max === "" ? Infinity : Number(item.dataset.max),
    color: getComputedStyle(item.querySelector(".swatch")).backgroundColor,
  }));
  const colorOf = (open) => (bins.find((b) => open >= b.min && open <= b.max) || bins[0]).color;

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => node.setAttribute(name, value));
    (children || []).forEach((child) =>
      node.append(typeof child === "string" ? document.createTextNode(child) : child));
    return node;
  }

  function gridPopup(p) {
    const rows = [element("strong", {}, [p.name])];
    rows.push(element("div", {}, [
      text("Open") + ": ", element("a", { href: p.open_url, class: "map-open" }, [String(p.open)]),
    ]));
    rows.push(element("div", {}, [
      text("Overdue") + ": ",
      p.overdue ? element("a", { href: p.overdue_url, class: "map-overdue" }, [String(p.overdue)])
        : "0",
    ]));
    rows.push(element("a", { href: p.open_url }, [text("Cases") + " →"]));
    return element("div", { class: "map-popup", "data-grid": p.code }, rows);
  }

  function casePopup(p) {
    return element("div", { class: "map-popup" }, [
      element("strong", {}, [p.number || "#" + p.id]),
      element("div", {}, [element("a", { href: p.url }, [text("Case") + " →"])]),
    ]);
  }

  function draw(data) {
    const grids = data.features.filter((f) => f.properties.kind === "grid");
    const cases = data.features.filter((f) => f.properties.kind === "case");
    const byCode = new Map(grids.map((f) => [f.properties.code, f]));
    const depthOf = new Map();
    const depth = (code) => {
      if (!depthOf.has(code)) {
        const parent = byCode.get(code).properties.parent;
        depthOf.set(code, parent && byCode.has(parent) ? depth(parent) + 1 : 0);
      }
      return depthOf.get(code);
    };
    const hasChildren = new Set(grids.map((f) => f.properties.parent).filter(Boolean));
    const outlined = grids.filter((f) => f.geometry);
    if (!outlined.length && !cases.length) { box.hidden = true; return; }

    const map = L.map(box, { zoomSnap: 0.25, preferCanvas: false });
    // while the map pans (a popup opening near the edge moves it), a tap is a drag's end:
    // say so, so that a test taps once it has stopped, as a person does
    map.on("movestart", () => { box.dataset.moving = "1"; });
    map.on("moveend", () => { delete box.dataset.moving; });
    map.createPane("cases").style.zIndex = 660; // above the labels (650), below popups
    const bounds = L.latLngBounds([]);
    let levelLayer = null;

    let labelled = [];
    // a label shows the grid's name and numbers where the grid is large enough on the
    // screen, its numbers alone where only they fit, and nothing where not even they do
    function fitLabels() {
      labelled.forEach((shape) => {
        const label = shape.getTooltip() && shape.getTooltip().getElement();
        if (!label) return;
        const b = shape.getBounds();
        const nw = map.latLngToContainerPoint(b.getNorthWest());
        const se = map.latLngToContainerPoint(b.getSouthEast());
        const room = { width: se.x - nw.x - 4, height: se.y - nw.y - 2 };
        const fitting = () => label.offsetWidth <= room.width && label.offsetHeight <= room.height;
        label.classList.remove("map-count-short", "map-count-none");
        if (!fitting()) {
          label.classList.add("map-count-short");
          if (!fitting()) label.classList.add("map-count-none");
        }
        shape.getTooltip().update(); // centred again on its new size
      });
    }
    map.on("zoomend", fitLabels);

    function show(level) {
      labelled = [];
      if (levelLayer) levelLayer.remove();
      levelLayer = L.layerGroup().addTo(map);
      outlined.forEach((feature) => {
        const p = feature.properties;
        const d = depth(p.code);
        const filled = d === level || (d < level && !hasChildren.has(p.code));
        if (d > level) return;
        const layer = L.geoJSON(feature, {
          style: filled
            ? { fillColor: colorOf(p.open), fillOpacity: 0.8, color: p.overdue ? "#b91c1c" : "#64748b",
                weight: p.overdue ? 3 : 1 }
            : { fill: false, color: "#334155", weight: 2 },
          interactive: filled,
        });
        layer.eachLayer((shape) => {
          shape.addTo(levelLayer);
          const path = shape.getElement && shape.getElement();
          if (path) {
            path.setAttribute("data-grid", p.code);
            path.setAttribute("data-open", String(p.open));
            path.setAttribute("data-overdue", String(p.overdue));
            path.setAttribute("data-filled", filled ? "1" : "0");
          }
          if (!filled) return;
          shape.bindPopup(() => gridPopup(p));
          const count = String(p.open) + (p.overdue ? " (" + p.overdue + ")" : "");
          shape.bindTooltip(element("span", {}, [
            element("span", { class: "map-count-name" }, [p.name]),
            element("span", { class: "map-count-n" }, [count]),
          ]), { permanent: true, direction: "center", className: "map-count" });
          const label = shape.getTooltip().getElement();
          if (label) label.setAttribute("data-grid", p.code);
          labelled.push(shape);
        });
      });
      fitLabels();
      document.querySelectorAll("#map-levels button").forEach((button) =>
        button.setAttribute("aria-pressed", String(Number(button.dataset.level) === level)));
    }

    // the view first: Leaflet draws a layer only once the map has one
    outlined.forEach((feature) => bounds.extend(L.geoJSON(feature).getBounds()));
    cases.forEach((feature) => bounds.extend(feature.geometry.coordinates.slice().reverse()));
    map.fitBounds(bounds.pad(0.05));
    // until the reader moves the map, it keeps showing everything when its size changes (a
    // phone turned, a window resized)
    let moved = false;
    ["pointerdown", "wheel", "keydown"].forEach((name) =>
      box.addEventListener(name, () => { moved = true; }, { passive: true }));
    map.on("resize", () => { if (!moved) map.fitBounds(bounds.pad(0.05), { animate: false }); });
    cases.forEach((feature) => {
      const [lng, lat] = feature.geometry.coordinates;
      const p = feature.properties;
      const marker = L.circleMarker([lat, lng], {
        pane: "cases", radius: 6, color: "#ffffff", weight: 1.5, fillOpacity: 1,
        fillColor: p.overdue ? "#b91c1c" : "#1d4ed8",
      }).addTo(map);
      marker.bindPopup(() => casePopup(p));
      const dot = marker.getElement();
      if (dot) { dot.setAttribute("data-case", String(p.id)); dot.classList.add("map-case"); }
    });

    const depths = Array.from(new Set(outlined.map((f) => depth(f.properties.code)))).sort((a, b) => a - b);
    const chooser = document.getElementById("map-levels");
    if (depths.length > 1 && chooser) {
      depths.forEach((d) => {
        const levels = outlined.filter((f) => depth(f.properties.code) === d)
          .map((f) => f.properties.level).filter(Boolean);
        const name = levels.length ? levelLabels[levels[0]] || levels[0]
          : text("Level").replace("{n}", String(d + 1));
        const button = element("button", { type: "button", "data-level": String(d) }, [name]);
        button.addEventListener("click", () => show(d));
        chooser.append(button);
      });
      chooser.hidden = false;
    }
    show(depths.length ? depths[depths.length - 1] : 0);
    box.dataset.ready = "1";
  }

  fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    })
    .then(draw)
    .catch(() => {
      box.replaceChildren(element("p", { class: "error" }, [text("Failed")]));
      box.dataset.ready = "failed";
    });
})();
