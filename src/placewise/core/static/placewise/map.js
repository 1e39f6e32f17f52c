// Placewise maps: Leaflet with vendored assets. Reads its set-up from data- attributes so
// no inline script is needed (the Content-Security-Policy forbids inline scripts).
(function () {
  "use strict";
  var PALETTE = ["#fff5eb", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603"];

  function baseMap(el) {
    var map = L.map(el, { preferCanvas: true });
    var tiles = el.dataset.tiles;
    if (tiles) {
      L.tileLayer(tiles, { attribution: el.dataset.tilesAttribution || "", maxZoom: 18 }).addTo(map);
    }
    map.attributionControl.addAttribution(
      "Contains OS data © Crown copyright and database right; police.uk, ONS, MHCLG (OGL v3)");
    return map;
  }

  // Quantile class breaks over the non-zero values, rounded and made distinct so the
  // legend never shows empty classes such as "2-2".
  function breaks(values) {
    var sorted = values.filter(function (v) { return v > 0; }).sort(function (a, b) { return a - b; });
    if (!sorted.length) return [];
    var out = [];
    for (var i = 1; i < PALETTE.length; i++) {
      var v = Math.ceil(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * i / (PALETTE.length - 1)) - 1)]);
      if (!out.length || v > out[out.length - 1]) out.push(v);
    }
    return out;
  }

  function colour(v, cuts) {
    if (!(v > 0)) return PALETTE[0];
    for (var i = 0; i < cuts.length; i++) { if (v <= cuts[i]) return PALETTE[i + 1]; }
    return PALETTE[PALETTE.length - 1];
  }

  function legend(el, cuts, label) {
    var box = document.getElementById(el.dataset.legend || "");
    if (!box) return;
    var html = "<strong>" + label + "</strong> " +
      '<span class="sw" style="background:' + PALETTE[0] + '"></span> none ';
    var lo = 0;
    for (var i = 0; i < cuts.length; i++) {
      html += '<span class="sw" style="background:' + PALETTE[i + 1] + '"></span> ' +
        (i ? lo + 1 : 1).toLocaleString() + "–" + cuts[i].toLocaleString() + " ";
      lo = cuts[i];
    }
    box.innerHTML = html;
  }

  function fmt(v) { return (Math.round(v * 10) / 10).toLocaleString(); }

  function choropleth(el) {
    var map = baseMap(el);
    fetch(el.dataset.geojson, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var values = data.features.map(function (f) { return f.properties.value || 0; });
        var cuts = breaks(values);
        var layer = L.geoJSON(data, {
          style: function (f) {
            return { color: "#555", weight: 0.6, fillOpacity: 0.75, fillColor: colour(f.properties.value, cuts) };
          },
          onEachFeature: function (f, lyr) {
            var p = f.properties;
            lyr.bindTooltip(p.name + ": " + fmt(p.value || 0));
            lyr.on("click", function () { if (p.url) window.location = p.url; });
          }
        }).addTo(map);
        if (data.features.length) map.fitBounds(layer.getBounds());
        else map.setView([52.6, -1.1], 9);
        legend(el, cuts, el.dataset.measureLabel || "");
        el.dataset.loaded = String(data.features.length);
      });
  }

  function outline(el) {
    var map = baseMap(el);
    var shapes = JSON.parse(document.getElementById(el.dataset.shapes).textContent);
    var group = L.featureGroup();
    var scores = shapes.map(function (s) { return s.score; }).filter(function (v) { return v > 0; });
    var cuts = scores.length ? breaks(scores.map(function (v) { return v * 100; })) : [];
    shapes.forEach(function (s) {
      var style = { color: s.colour || "#1f5fa8", weight: 2, fillOpacity: s.fill || 0.15 };
      if (s.score !== undefined) {
        // Screening: shade by priority score; outline statistically significant hotspots.
        style = { color: s.hotspot ? "#b10026" : "#555", weight: s.hotspot ? 2.5 : 0.6,
                  fillOpacity: 0.75, fillColor: colour(s.score * 100, cuts) };
      }
      L.geoJSON(s.geometry, { style: style }).bindTooltip(s.name).addTo(group);
    });
    group.addTo(map);
    if (shapes.length) map.fitBounds(group.getBounds()); else map.setView([52.6, -1.1], 9);
    el.dataset.loaded = String(shapes.length);
    return map;
  }

  function draw(el) {
    var map = outline(el);
    var points = [];
    var line = L.polyline([], { color: "#a63603" }).addTo(map);
    var poly = null;
    var input = document.getElementById(el.dataset.target);
    map.on("click", function (e) {
      points.push([e.latlng.lng, e.latlng.lat]);
      line.setLatLngs(points.map(function (p) { return [p[1], p[0]]; }));
      if (points.length >= 3) {
        var ring = points.concat([points[0]]);
        if (poly) map.removeLayer(poly);
        poly = L.polygon(ring.map(function (p) { return [p[1], p[0]]; }), { color: "#a63603" }).addTo(map);
        input.value = JSON.stringify({ type: "Polygon", coordinates: [ring] });
      }
    });
    var clear = document.getElementById(el.dataset.clear);
    if (clear) clear.addEventListener("click", function (e) {
      e.preventDefault(); points = []; line.setLatLngs([]); if (poly) map.removeLayer(poly); input.value = "";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-map]").forEach(function (el) {
      var kind = el.dataset.map;
      if (kind === "choropleth") choropleth(el);
      else if (kind === "draw") draw(el);
      else outline(el);
    });
  });
})();
