// CityDiplomacy Observatory: the little JavaScript the dashboard needs.
// 1. Draw the Plotly figures embedded as JSON next to their containers (plotly.min.js is served locally,
//    the world map comes from window.PlotlyGeoAssets: nothing is fetched from the internet).
// 2. Pickers on record forms: type a name (any script), pick a place or an organisation.
(function () {
  "use strict";
  var rtl = document.documentElement.dir === "rtl";

  function drawCharts() {
    if (typeof window.Plotly === "undefined") { return; }
    if (rtl) {
      // Plotly measures label sizes in a hidden SVG appended to <body>; in a right-to-left page the
      // text anchors flip there too and the margins made to fit the labels come out wrong.
      var style = document.createElement("style");
      style.textContent = "#js-plotly-tester { direction: ltr; }";
      document.head.appendChild(style);
    }
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var src = document.getElementById(el.getAttribute("data-figure"));
      if (!src) { return; }
      var fig = JSON.parse(src.textContent);
      var layout = fig.layout || {};
      // A world map keeps its aspect ratio: on a narrow screen its fixed height would be mostly blank.
      if (layout.geo && el.clientWidth < 600) { layout.height = Math.round(el.clientWidth * 0.55) + 90; }
      // A network drawn to scale (square axes) likewise: as tall as it is wide, not a strip in a tall box.
      if (layout.yaxis && layout.yaxis.scaleanchor === "x" && el.clientWidth < 600) { layout.height = el.clientWidth + 40; }
      if (rtl && layout.legend === undefined) { layout.legend = { x: 0, xanchor: "left" }; }
      window.Plotly.newPlot(el, fig.data, layout, { displaylogo: false, responsive: true }).then(function () {
        el.setAttribute("data-rendered", "1");
        // A point whose customdata is a dashboard address (a place's profile) opens it when clicked.
        el.on("plotly_click", function (ev) {
          var point = ev && ev.points && ev.points[0];
          var target = point && point.customdata;
          if (typeof target === "string" && target.charAt(0) === "/" && target.charAt(1) !== "/") {
            window.location.href = target;
          }
        });
      });
    });
  }

  // A picker: a text box (role=combobox) whose suggestions (role=listbox) come from /api/suggest/...; arrow
  // keys move through them, Enter picks, Escape closes.  Picking writes the record's id (or, for a place of the
  // gazetteer not yet in the registry, its gazetteer id) into hidden fields; typing again clears them, and the
  // server then resolves the typed name (which is also what happens without JavaScript).
  function setupPickers() {
    document.querySelectorAll("input.picker").forEach(function (input) {
      var targetId = input.getAttribute("data-target");
      var target = document.getElementById(targetId);
      var gaz = document.getElementById(targetId + "__gaz");
      var shown = document.getElementById(targetId + "__shown");
      var results = document.getElementById("results-" + targetId);
      var picked = document.getElementById("picked-" + targetId);
      var url = input.getAttribute("data-suggest") || "/api/places";
      var timer = null;
      var active = -1;

      function options() { return results.querySelectorAll("button.pick"); }
      function close() {
        results.textContent = "";
        active = -1;
        input.setAttribute("aria-expanded", "false");
        input.removeAttribute("aria-activedescendant");
      }
      function highlight(i) {
        var opts = options();
        if (!opts.length) { return; }
        active = (i + opts.length) % opts.length;
        opts.forEach(function (o, k) { o.setAttribute("aria-selected", k === active ? "true" : "false"); });
        input.setAttribute("aria-activedescendant", opts[active].id);
        opts[active].scrollIntoView({ block: "nearest" });
      }
      function choose(s) {
        target.value = s.id === null || s.id === undefined ? "" : s.id;
        // The server says what to send for a gazetteer entry (store.lookup.gazetteer_ref: "csc:<id>" for CSC).
        if (gaz) { gaz.value = s.id ? "" : (s.gazetteer_ref || ""); }
        var name = (rtl && s.name_fa) ? s.name_fa : s.name;
        if (rtl && s.matched_name && /[\u0600-\u06ff]/.test(s.matched_name)) { name = s.matched_name; }
        input.value = name;
        if (shown) { shown.value = name; }
        picked.textContent = s.label || name;
        close();
      }
      input.addEventListener("input", function () {
        clearTimeout(timer);
        target.value = "";
        if (gaz) { gaz.value = ""; }
        picked.textContent = "";
        var q = input.value.trim();
        if (q.length < 2) { close(); return; }
        timer = setTimeout(function () {
          fetch(url + "?limit=8&q=" + encodeURIComponent(q), { credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.json() : { items: [] }; })
            .then(function (page) {
              results.textContent = "";
              active = -1;
              page.items.forEach(function (s, k) {
                var li = document.createElement("li");
                li.setAttribute("role", "presentation");
                var b = document.createElement("button");
                b.type = "button";
                b.className = "pick" + (s.id ? "" : " new-place");
                b.id = "opt-" + targetId + "-" + k;
                b.setAttribute("role", "option");
                b.setAttribute("tabindex", "-1");
                // textContent, never innerHTML: names come from the data and may contain markup.
                var main = document.createElement("span");
                main.textContent = s.label || s.name;
                b.appendChild(main);
                var name = (rtl && s.name_fa) ? s.name_fa : s.name;
                if (s.matched_name && s.matched_name !== name && s.matched_name !== s.name) {
                  var m = document.createElement("small");
                  m.textContent = " ← " + s.matched_name;
                  b.appendChild(m);
                }
                if (!s.id && s.gazetteer_id) {
                  var tag = document.createElement("small");
                  tag.className = "tag";
                  tag.textContent = rtl ? " (تازه در ثبت)" : " (new to the registry)";
                  b.appendChild(tag);
                }
                b.addEventListener("mousedown", function (e) { e.preventDefault(); });
                b.addEventListener("click", function () { choose(s); input.focus(); });
                li.appendChild(b);
                results.appendChild(li);
              });
              input.setAttribute("aria-expanded", page.items.length ? "true" : "false");
            });
        }, 200);
      });
      input.addEventListener("keydown", function (e) {
        var opts = options();
        if (e.key === "ArrowDown" && opts.length) { e.preventDefault(); highlight(active + 1); }
        else if (e.key === "ArrowUp" && opts.length) { e.preventDefault(); highlight(active - 1); }
        else if (e.key === "Enter" && active >= 0 && opts.length) { e.preventDefault(); opts[active].click(); }
        else if (e.key === "Escape") { close(); }
      });
      input.addEventListener("blur", function () { setTimeout(close, 150); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawCharts(); setupPickers(); });
})();
