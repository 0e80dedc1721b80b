// CityDiplomacy Observatory: the little JavaScript the dashboard needs.
// 1. Draw the Plotly figures embedded as JSON next to their containers (plotly.min.js is served locally,
//    the world map comes from window.PlotlyGeoAssets: nothing is fetched from the internet).
// 2. A place picker on record forms: type a name, pick a place, its id fills the id field.
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

  function setupPickers() {
    document.querySelectorAll("input.picker").forEach(function (input) {
      var target = document.getElementById(input.getAttribute("data-target"));
      var results = document.getElementById("results-" + input.getAttribute("data-target"));
      var picked = document.getElementById("picked-" + input.getAttribute("data-target"));
      var timer = null;
      input.addEventListener("input", function () {
        clearTimeout(timer);
        var q = input.value.trim();
        if (q.length < 2) { results.textContent = ""; return; }
        timer = setTimeout(function () {
          fetch("/api/places?limit=10&q=" + encodeURIComponent(q), { credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.json() : { items: [] }; })
            .then(function (page) {
              results.textContent = "";
              page.items.forEach(function (p) {
                var li = document.createElement("li");
                var b = document.createElement("button");
                b.type = "button";
                b.className = "pick";
                // textContent, never innerHTML: names come from the data and may contain markup.
                b.textContent = p.name + (p.country_code ? " (" + p.country_code + ")" : "") + " #" + p.id;
                b.addEventListener("click", function () {
                  target.value = p.id;
                  picked.textContent = p.name;
                  results.textContent = "";
                });
                li.appendChild(b);
                results.appendChild(li);
              });
            });
        }, 200);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawCharts(); setupPickers(); });
})();
