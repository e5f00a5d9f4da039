/* gis_planning atlas runtime (MIT, part of gis_planning).
 *
 * Draws the layers that gis_planning.outputs.webmap.Atlas writes into the page and adds the
 * page's own controls: one info tooltip/popup for the topmost visible layer, legends, labels
 * placed by priority around markers, a layer control, a typo-tolerant search and a query
 * panel (conditions on attributes, areas and distances; table and CSV). No server, no network.
 *
 * Every text value in a layer payload was HTML-escaped in Python; it is inserted as HTML and
 * unescaped only where it becomes plain text (search folding, CSV). Texts of the controls
 * come from the payloads (layer names, labels, units); the few fixed words here are German.
 */
(function () {
  'use strict';
  var gp = window.gp = {registry: {}, geoms: {}, reps: {}, z: 0, labelSets: [], map: null,
                        pad: null, popupKey: null};

  // ------------------------------------------------------------------ geometry store
  gp.dec = function (s, f) {
    var i = 0, lat = 0, lng = 0, out = [], n = s.length;
    while (i < n) {
      var r = 0, sh = 0, b;
      do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << sh; sh += 5; } while (b >= 32);
      lat += (r & 1) ? ~(r >> 1) : (r >> 1);
      r = 0; sh = 0;
      do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << sh; sh += 5; } while (b >= 32);
      lng += (r & 1) ? ~(r >> 1) : (r >> 1);
      out.push([lat / f, lng / f]);
    }
    return out;
  };
  gp.store = function (d) {
    var f = Math.pow(10, d.d);
    Object.keys(d.g).forEach(function (k) {
      gp.geoms[k] = d.g[k].map(function (poly) {
        return poly.map(function (ring) { return gp.dec(ring, f); });
      });
    });
    Object.keys(d.r || {}).forEach(function (k) { gp.reps[k] = [d.r[k][0] / f, d.r[k][1] / f]; });
  };

  function inRing(ring, lat, lng) {
    var c = false;
    for (var a = 0, b = ring.length - 1; a < ring.length; b = a++) {
      var ya = ring[a][0], yb = ring[b][0];
      if ((ya > lat) !== (yb > lat) &&
          lng < (ring[b][1] - ring[a][1]) * (lat - ya) / (yb - ya) + ring[a][1]) { c = !c; }
    }
    return c;
  }
  function inGeom(parts, lat, lng) {
    for (var p = 0; p < parts.length; p++) {
      if (!inRing(parts[p][0], lat, lng)) { continue; }
      var hole = false;
      for (var h = 1; h < parts[p].length && !hole; h++) { hole = inRing(parts[p][h], lat, lng); }
      if (!hole) { return true; }
    }
    return false;
  }
  gp.inGeom = inGeom;

  // Lat/lng -> the city's projected CRS (metres) by the polynomial fitted in Python.
  gp.project = function (lat, lng) {
    var P = gp.proj, u = lng - P.lng0, v = lat - P.lat0, x = 0, y = 0, t = 0;
    for (var i = 0; i <= 3; i++) {
      for (var j = 0; j <= 3 - i; j++) {
        var m = Math.pow(u, i) * Math.pow(v, j);
        x += P.cx[t] * m; y += P.cy[t] * m; t++;
      }
    }
    return [x, y];
  };
  function segDist(p, a, b) {
    var dx = b[0] - a[0], dy = b[1] - a[1], l = dx * dx + dy * dy;
    var t = l ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l : 0;
    t = Math.max(0, Math.min(1, t));
    return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
  }

  // ------------------------------------------------------------------ formats
  // Mirrors gis_planning.labels.fmt_number: "1.234,5", half-even at exact ties, "–" if missing.
  function fmtNum(v, dec, unit) {
    if (v === null || v === undefined || typeof v !== 'number' || isNaN(v)) { return '–'; }
    var m = Math.pow(10, dec), y = Math.abs(v) * m, fl = Math.floor(y), n;
    if (y - fl === 0.5) { n = (fl % 2 === 0) ? fl : fl + 1; } else { n = null; }
    var s = n !== null ? (n / m).toFixed(dec) : Math.abs(v).toFixed(dec);
    var parts = s.split('.');
    var out = (v < 0 ? '-' : '') + parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, '.') +
      (parts[1] ? ',' + parts[1] : '');
    return unit ? out + ' ' + unit : out;
  }
  gp.fmtNum = fmtNum;
  function show(col, v) {
    if (v === null || v === undefined || v === '') { return '–'; }
    if (col[2] === 'b') { return v ? 'ja' : 'nein'; }
    if (col[2] === 'n') {
      if (col[3]) { return fmtNum(v, col[3][0], col[3][1]); }
      return fmtNum(v, Number.isInteger(v) ? 0 : 2);
    }
    return v;
  }
  gp.show = show;
  function unesc(s) {
    return String(s).replace(/&(amp|lt|gt|quot|#x27);/g, function (m, e) {
      return {amp: '&', lt: '<', gt: '>', quot: '"', '#x27': "'"}[e];
    });
  }
  function escHtml(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
  }
  function expand(v) {
    return (v && v.u) ? v.i.map(function (i) { return i === null ? null : v.u[i]; }) : v;
  }
  function el(tag, cls, parent, html) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (html !== undefined) { e.innerHTML = html; }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  // ------------------------------------------------------------------ registry and info
  function reg(name, fg, kind, n, d) {
    var r = gp.registry[name] = {name: name, layer: fg, kind: kind, count: n, d: d || {}, z: 0};
    if (gp.map && gp.map.hasLayer(fg)) { r.z = ++gp.z; }
    fg.on('add', function () { r.z = ++gp.z; gp.refreshLegends(); });
    return r;
  }
  function layerOn(r) { return !!(gp.map && gp.map.hasLayer(r.layer)); }

  gp.info = function (r, i, full) {
    var d = r.d, h = '<div class="gp-info"><div class="gp-info-title">' + d.name + '</div>' +
      '<table class="gp-tip">', rows = 0;
    (d.cols || []).forEach(function (c, j) {
      if (!c[4]) { return; }
      if (!full && r.kind === 'points' && rows >= (d.hover || 2)) { return; }
      h += '<tr><th>' + c[1] + '</th><td>' + show(c, d.vals[j][i]) + '</td></tr>';
      rows++;
    });
    h += '</table>';
    if (d.n) { h += '<div class="gp-note">' + d.n + '</div>'; }
    if (full && d.rn !== undefined && d.rn !== null && d.vals[d.rn][i]) {
      h += '<div class="gp-rownote">' + d.vals[d.rn][i] + '</div>';
    }
    if (d.meta && d.meta.length && (full || r.kind !== 'points')) {
      h += '<div class="gp-meta">' + d.meta.map(function (m) {
        return '<div><b>' + m[0] + ':</b> ' + m[1] + '</div>';
      }).join('') + '</div>';
    }
    return h + '</div>';
  };

  // The feature under a point: topmost visible thematic polygon layer first, then base layers.
  gp.pick = function (ll) {
    var regs = Object.keys(gp.registry).map(function (k) { return gp.registry[k]; })
      .filter(function (r) { return r.kind === 'polygons' && r.d.cols && layerOn(r); })
      .sort(function (a, b) {
        return (a.d.role === 't' ? 0 : 1) - (b.d.role === 't' ? 0 : 1) || b.z - a.z;
      });
    for (var k = 0; k < regs.length; k++) {
      var r = regs[k];
      for (var i = 0; i < r.feats.length; i++) {
        var f = r.feats[i];
        if (f.bounds.contains(ll) && inGeom(gp.geoms[f.gid], ll.lat, ll.lng)) {
          return {r: r, i: i};
        }
      }
    }
    return null;
  };
  function hkey(h) { return h ? h.r.name + '#' + h.i : null; }
  gp.openInfo = function (h, ll) {
    var map = gp.map;
    map.closeTooltip(gp.tip);
    gp.popupKey = hkey(h);
    gp.popup = L.popup({maxWidth: 340, className: 'gp-popup', autoPanPaddingTopLeft:
      gp.pad ? gp.pad[0] : null, offset: h.r.kind === 'points' ? [0, -6] : [0, 7]})
      .setLatLng(ll).setContent(gp.info(h.r, h.i, true)).openOn(map);
  };
  gp.showTip = function (h, ll) {
    if (!h || hkey(h) === gp.popupKey) { gp.map.closeTooltip(gp.tip); return; }
    gp.tip.setLatLng(ll).setContent(gp.info(h.r, h.i, false));
    gp.map.openTooltip(gp.tip);
  };

  gp.init = function (map) {
    gp.map = map;
    gp.tip = L.tooltip({direction: 'top', offset: [0, -10], className: 'gp-tooltip',
                        opacity: 0.97});
    var lp = map.createPane('gpLabels');
    lp.style.zIndex = 450; lp.style.pointerEvents = 'none';
    var hp = map.createPane('gpHighlight');
    hp.style.zIndex = 620; hp.style.pointerEvents = 'none';
    gp.hlRenderer = L.svg({pane: 'gpHighlight'});
    gp.hl = L.layerGroup().addTo(map);
    var hover = null, pending = null, raf = null;
    function setHover(h) {
      if (hkey(h) === hkey(hover)) { return; }
      if (hover) { var s = hover.r.d.style; hover.r.feats[hover.i].layer.setStyle(
        {weight: s.weight, color: s.color}); }
      hover = h;
      if (h) { h.r.feats[h.i].layer.setStyle({weight: h.r.d.style.weight + 2, color: '#000'}); }
      map.getContainer().style.cursor = h ? 'pointer' : '';
    }
    map.on('mousemove', function (e) {
      if (gp.overMarker) { return; }
      pending = e.latlng;
      if (raf === null) {
        raf = window.requestAnimationFrame(function () {
          raf = null;
          var h = gp.pick(pending);
          setHover(h);
          gp.showTip(h, pending);
        });
      }
    });
    map.on('mouseout', function () { setHover(null); map.closeTooltip(gp.tip); });
    map.on('click', function (e) {
      var h = gp.pick(e.latlng);
      if (h) { gp.openInfo(h, e.latlng); }
    });
    map.on('popupclose', function () { gp.popupKey = null; });
    map.on('zoomend moveend layeradd layerremove', gp.scheduleLabels);
    // clustered markers glide to their places: place the labels again when they arrive
    map.getPane('markerPane').addEventListener('transitionend', gp.scheduleLabels);
  };

  // ------------------------------------------------------------------ layers
  gp.polys = function (fg, d) {
    d.vals = (d.vals || []).map(expand);
    var st = d.style, feats = [], classed = d.c !== null && d.c !== undefined;
    d.g.forEach(function (gid, i) {
      var p = L.polygon(gp.geoms[gid], {color: st.color, weight: st.weight, dashArray: st.dash,
        fillColor: classed ? d.pal[d.c[i]] : (st.fill || st.color),
        fillOpacity: classed ? 0.75 : st.opacity, smoothFactor: 0.5, interactive: false});
      p.addTo(fg);
      feats.push({layer: p, gid: gid, bounds: p.getBounds()});
    });
    var r = reg(d.name, fg, 'polygons', feats.length, d);
    r.feats = feats;
  };

  // An image overlay (census surface): no features to point at, but a layer with a legend.
  gp.image = function (fg, d) {
    reg(d.name, fg, 'image', 1, {});
  };

  gp.points = function (fg, d) {
    d.vals = (d.vals || []).map(expand);
    var target = d.cluster ? L.markerClusterGroup({disableClusteringAtZoom: 15,
      showCoverageOnHover: false, maxClusterRadius: 45,
      iconCreateFunction: function (cl) {
        return L.divIcon({className: 'gp-cluster', iconSize: [28, 28],
          html: '<div style="background:' + d.cc + '">' + cl.getChildCount() + '</div>'});
      }}) : fg;
    var xy = d.xy ? gp.dec(d.xy, Math.pow(10, d.d)) : [], icons = d.cats.map(function (c) {
      return L.divIcon({className: 'gp-marker', iconSize: [16, 16], iconAnchor: [8, 8],
        html: '<div class="gp-pin" style="background:' + c[0] + '">' + c[1] + '</div>'});
    });
    var r = reg(d.name, fg, 'points', xy.length, d);
    r.xy = xy;
    r.markers = xy.map(function (ll, i) {
      var m = L.marker(ll, {icon: icons[d.k ? d.k[i] : 0], keyboard: false});
      if (d.cols && d.cols.length) {
        m.on('mouseover', function () { gp.overMarker = true; gp.showTip({r: r, i: i}, ll); });
        m.on('mouseout', function () { gp.overMarker = false; gp.map.closeTooltip(gp.tip); });
        m.on('click', function () { gp.openInfo({r: r, i: i}, ll); });
      }
      m.addTo(target);
      return m;
    });
    if (d.cluster) {
      target.addTo(fg);
      target.on('animationend', gp.scheduleLabels);
    }
    r.target = target;
  };

  // Labels: placed in priority order (the order given), most recently shown layer first;
  // a label that would overlap a marker or a label already placed tries four positions
  // around its anchor and is hidden if none is free.
  gp.labels = function (map, fg, d) {
    var f = Math.pow(10, d.d);
    var ms = d.t.map(function (t, i) {
      return L.marker([d.y[i] / f, d.x[i] / f], {interactive: false, keyboard: false,
        pane: 'gpLabels', icon: L.divIcon({className: 'gp-label-icon', iconSize: [0, 0],
          html: '<div class="' + (d.cls || 'gp-label') + '">' + t + '</div>'})}).addTo(fg);
    });
    var r = reg(d.name, fg, 'labels', ms.length, d);
    r.ms = ms;
    gp.labelSets.push(r);
    gp.scheduleLabels();
  };
  var labelTimer = null, lateTimer = null;
  gp.scheduleLabels = function () {
    // once soon, and once more when marker clusters have settled after a zoom
    if (labelTimer === null) {
      labelTimer = setTimeout(function () { labelTimer = null; gp.placeLabels(); }, 60);
    }
    clearTimeout(lateTimer);
    lateTimer = setTimeout(gp.placeLabels, 400);
  };
  gp.placeLabels = function () {
    var map = gp.map;
    if (!map) { return; }
    var c = map.getContainer().getBoundingClientRect(), size = map.getSize(), taken = [];
    document.querySelectorAll('.leaflet-marker-pane .leaflet-marker-icon').forEach(function (e) {
      var b = e.getBoundingClientRect();
      if (b.width > 0) { taken.push([b.left - c.left, b.top - c.top, b.right - c.left,
                                     b.bottom - c.top]); }
    });
    function free(b) {
      for (var k = 0; k < taken.length; k++) {
        var o = taken[k];
        if (!(b[2] <= o[0] || b[0] >= o[2] || b[3] <= o[1] || b[1] >= o[3])) { return false; }
      }
      return true;
    }
    gp.labelSets.filter(layerOn).sort(function (a, b) { return b.z - a.z; })
      .forEach(function (r) {
        var n = 0;
        r.ms.forEach(function (m) {
          var e = m.getElement();
          if (!e) { return; }
          var inner = e.firstChild, p = map.latLngToContainerPoint(m.getLatLng());
          var w = inner.offsetWidth || 60, h = inner.offsetHeight || 13, ok = null;
          var cands = [[0, 0], [0, -h - 2], [0, h + 2], [w / 2 + 8, 0], [-w / 2 - 8, 0]];
          var inside = p.x >= 0 && p.x <= size.x && p.y >= 0 && p.y <= size.y;
          for (var k = 0; k < cands.length && !ok && inside; k++) {
            var dx = cands[k][0], dy = cands[k][1];
            // keep the label inside the map (shift it along its row, at most half its width)
            var lo = p.x + dx - w / 2 - 2, hi = p.x + dx + w / 2 + 2;
            if (lo < 2) { dx += Math.min(2 - lo, w / 2); } else if (hi > size.x - 2) {
              dx -= Math.min(hi - size.x + 2, w / 2); }
            var x = p.x + dx, y = p.y + dy;
            var b = [x - w / 2 - 2, y - h / 2 - 1, x + w / 2 + 2, y + h / 2 + 1];
            if (b[0] < 0 || b[2] > size.x || b[1] < 0 || b[3] > size.y) { continue; }
            if (free(b)) { ok = [[dx, dy], b]; }
          }
          e.style.visibility = ok ? '' : 'hidden';
          if (ok) {
            inner.style.transform = 'translate(-50%, -50%) translate(' + ok[0][0] + 'px, ' +
              ok[0][1] + 'px)';
            taken.push(ok[1]);
            n++;
          }
        });
        r.visible = n;
      });
  };

  // ------------------------------------------------------------------ legends
  gp.legend = function (map, fg, html, name) {
    if (!gp.legendBox) {
      var c = gp.legendBox = L.control({position: 'bottomleft'});
      c.onAdd = function () {
        if (gp.legendDiv) { return gp.legendDiv; }
        var div = gp.legendDiv = L.DomUtil.create('div', 'gp-legends');
        var det = el('details', 'gp-legend-details', div);
        det.open = window.innerWidth >= 700;
        el('summary', '', det, 'Legende');
        gp.legendList = el('div', 'gp-legend-list', det);
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      };
      c.addTo(map);
    }
    var div = el('div', 'gp-legend', gp.legendList, html);
    div.gpLayer = fg;
    div.gpName = name;
    function update() { div.style.display = map.hasLayer(fg) ? '' : 'none'; gp.refreshLegends(); }
    fg.on('add remove', update);
    div.style.display = map.hasLayer(fg) ? '' : 'none';
  };
  // The legend of the layer drawn on top comes first.
  gp.refreshLegends = function () {
    if (!gp.legendList) { return; }
    var kids = Array.prototype.slice.call(gp.legendList.children);
    function rank(r) { return !r ? 2 : (r.kind === 'labels' || r.d.role === 'b') ? 1 : 0; }
    kids.sort(function (a, b) {
      var ra = gp.registry[a.gpName], rb = gp.registry[b.gpName];
      return rank(ra) - rank(rb) || (rb ? rb.z : 0) - (ra ? ra.z : 0);
    }).forEach(function (k) { gp.legendList.appendChild(k); });
  };
  gp.raiseLegends = function (map) {
    // bottom corners stack upwards: re-adding puts the legends above the sources box
    if (gp.legendBox) { gp.legendBox.remove(); gp.legendBox.addTo(map); }
  };

  // ------------------------------------------------------------------ boxes and control
  gp.box = function (map, html, pos, cls, openWidth) {
    var c = L.control({position: pos});
    c.onAdd = function () {
      var div = L.DomUtil.create('div', cls);
      div.innerHTML = html;
      var det = div.querySelector('details');
      if (det && window.innerWidth >= openWidth) { det.open = true; }
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    c.addTo(map);
  };
  // A compact layer control with group headings; collapsed to a button on small screens.
  gp.control = function (map, groups, base) {
    var c = L.control({position: 'topright'});
    c.onAdd = function () {
      var div = L.DomUtil.create('div', 'gp-layers');
      var det = L.DomUtil.create('details', '', div);
      if (window.innerWidth >= 700) { det.open = true; }
      L.DomUtil.create('summary', '', det).innerHTML = 'Ebenen';
      function row(parent, label, layer) {
        var lab = L.DomUtil.create('label', '', parent);
        var cb = L.DomUtil.create('input', '', lab);
        cb.type = 'checkbox';
        cb.checked = map.hasLayer(layer);
        L.DomUtil.create('span', '', lab).innerHTML = label;
        cb.addEventListener('change', function () {
          if (cb.checked) { map.addLayer(layer); } else { map.removeLayer(layer); }
        });
        layer.on('add', function () { cb.checked = true; });
        layer.on('remove', function () { cb.checked = false; });
      }
      groups.concat(base ? [['Hintergrund', [base]]] : []).forEach(function (g) {
        var box = L.DomUtil.create('div', 'gp-group', det);
        L.DomUtil.create('b', '', box).innerHTML = g[0];
        g[1].forEach(function (it) { row(box, it[0], it[1]); });
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    c.addTo(map);
  };

  // Open the city so that no control covers it: padding beside the left and right control
  // columns (wide screens) or above and below the control rows (phones), whichever shows
  // the city larger.
  gp.fit = function (map, b) {
    var bounds = L.latLngBounds(b), c = map.getContainer().getBoundingClientRect();
    var W = c.width, H = c.height, left = 0, right = 0, top = 0, bottom = 0, m = 8;
    document.querySelectorAll('.leaflet-control-container .leaflet-control').forEach(
      function (e) {
        var r = e.getBoundingClientRect();
        if (!r.width || !r.height) { return; }
        var x0 = r.left - c.left, x1 = r.right - c.left, y0 = r.top - c.top,
          y1 = r.bottom - c.top;
        if (x0 + x1 < W) { left = Math.max(left, x1); } else { right = Math.max(right, W - x0); }
        if (y0 + y1 < H) { top = Math.max(top, y1); } else { bottom = Math.max(bottom, H - y0); }
      });
    var zh = W - left - right > 120 ?
      map.getBoundsZoom(bounds, false, L.point(left + right + 2 * m, 2 * m)) : -Infinity;
    var zv = H - top - bottom > 120 ?
      map.getBoundsZoom(bounds, false, L.point(2 * m, top + bottom + 2 * m)) : -Infinity;
    gp.cityBounds = bounds;
    if (zh === -Infinity && zv === -Infinity) {
      map.fitBounds(bounds, {animate: false});
      return;
    }
    gp.pad = zh >= zv ? [[left + m, m], [right + m, m]] : [[m, top + m], [m, bottom + m]];
    map.fitBounds(bounds, {paddingTopLeft: gp.pad[0], paddingBottomRight: gp.pad[1],
                           animate: false});
    gp.cityBounds = bounds;
    gp.refreshLegends();
    gp.scheduleLabels();
  };
  function fitTo(bounds, maxZoom) {
    var p = gp.pad || [[20, 20], [20, 20]];
    gp.map.fitBounds(bounds, {paddingTopLeft: p[0], paddingBottomRight: p[1],
                              maxZoom: maxZoom || 16});
  }

  // ------------------------------------------------------------------ search
  function fold(t, plain) {
    t = String(t).toLowerCase();
    if (!plain) { t = t.replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue'); }
    return t.replace(/ß/g, 'ss').normalize('NFD').replace(/[\u0300-\u036f]/g, '')
      .replace(/[^a-z0-9]+/g, ' ').trim();
  }
  function folds(t) {
    var a = fold(t), b = fold(t, true);
    return a === b ? [a] : [a, b];
  }
  gp.fold = fold;
  // Edit distance of q to the best-matching substring of t (Sellers 1980), with adjacent
  // transpositions counted as one edit.
  function subDist(q, t) {
    var m = q.length, n = t.length, prev2 = null, prev = [], cur, i, j;
    for (j = 0; j <= n; j++) { prev.push(0); }
    for (i = 1; i <= m; i++) {
      cur = [i];
      for (j = 1; j <= n; j++) {
        var cost = q.charAt(i - 1) === t.charAt(j - 1) ? 0 : 1;
        var v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
        if (i > 1 && j > 1 && q.charAt(i - 1) === t.charAt(j - 2) &&
            q.charAt(i - 2) === t.charAt(j - 1)) { v = Math.min(v, prev2[j - 2] + 1); }
        cur.push(v);
      }
      prev2 = prev; prev = cur;
    }
    return Math.min.apply(null, prev);
  }
  function score(q, t) {
    if (t === q) { return 0; }
    var at = t.indexOf(q);
    if (at === 0) { return 1; }
    if (at > 0) { return t.charAt(at - 1) === ' ' ? 2 : 3; }
    var words = q.split(' ');
    if (words.length > 1 && words.every(function (w) { return t.indexOf(w) >= 0; })) {
      return 3;
    }
    var k = q.length >= 8 ? 2 : q.length >= 4 ? 1 : 0;
    if (!k || q.length > t.length + k) { return null; }
    var d = subDist(q, t);
    return d <= k ? 4 + d : null;
  }
  gp.searchIndex = function () {
    var out = [];
    Object.keys(gp.registry).forEach(function (name) {
      var r = gp.registry[name], s = r.d && r.d.s;
      if (!s || !r.d.vals) { return; }
      r.d.vals[s.c].forEach(function (v, i) {
        if (v === null || v === '') { return; }
        var keys = folds(unesc(v));
        (s.a || []).forEach(function (j) {
          var a = r.d.vals[j][i];
          if (a) { keys = keys.concat(folds(unesc(a))); }
        });
        out.push({html: v, kind: s.k, rank: s.r || 0, r: r, i: i, keys: keys});
      });
    });
    return out;
  };
  gp.find = function (text, limit) {
    var qs = folds(text), res = [];
    if (!qs[0]) { return res; }
    gp._index = gp._index || gp.searchIndex();
    gp._index.forEach(function (e) {
      var best = null;
      qs.forEach(function (q) {
        e.keys.forEach(function (t) {
          var s = score(q, t);
          if (s !== null && (best === null || s < best)) { best = s; }
        });
      });
      if (best !== null) { res.push({e: e, s: best}); }
    });
    res.sort(function (a, b) {
      return a.s - b.s || a.e.rank - b.e.rank || a.e.keys[0].length - b.e.keys[0].length ||
        (a.e.keys[0] < b.e.keys[0] ? -1 : 1);
    });
    return res.slice(0, limit || 8).map(function (x) { return x.e; });
  };
  gp.mark = function (r, idx) {
    gp.hl.clearLayers();
    idx.forEach(function (i) {
      if (r.kind === 'points') {
        L.circleMarker(r.xy[i], {radius: 11, color: '#d7191c', weight: 3, fill: false,
          renderer: gp.hlRenderer, interactive: false}).addTo(gp.hl);
      } else {
        L.polygon(gp.geoms[r.d.g[i]], {color: '#d7191c', weight: 3.5, fill: false,
          renderer: gp.hlRenderer, interactive: false}).addTo(gp.hl);
      }
    });
  };
  function locate(r, i) {
    return r.kind === 'points' ? r.xy[i] : gp.reps[r.d.g[i]];
  }
  gp.select = function (e) {
    var map = gp.map, r = e.r, i = e.i;
    if (!layerOn(r)) { map.addLayer(r.layer); }
    gp.found = unesc(e.html);
    gp.mark(r, [i]);
    if (r.kind === 'points') {
      var m = r.markers[i], ll = r.xy[i];
      var open = function () { gp.openInfo({r: r, i: i}, ll); };
      if (r.target.zoomToShowLayer) {
        map.setView(ll, Math.max(map.getZoom(), 15), {animate: false});
        r.target.zoomToShowLayer(m, open);
      } else { map.setView(ll, Math.max(map.getZoom(), 15), {animate: false}); open(); }
      return;
    }
    fitTo(r.feats[i].bounds, 15);
    var p = gp.reps[r.d.g[i]], at = L.latLng(p[0], p[1]);
    var h = r.d.unit ? gp.pick(at) : null;
    gp.openInfo(h || {r: r, i: i}, at);
  };
  gp.search = function (map, placeholder) {
    var c = L.control({position: 'topleft'});
    c.onAdd = function () {
      var div = L.DomUtil.create('div', 'gp-search');
      var input = el('input', 'gp-search-input', div);
      input.type = 'search';
      input.placeholder = placeholder;
      input.title = placeholder;
      input.setAttribute('aria-label', placeholder);
      var list = el('ul', 'gp-search-list', div), hits = [], active = -1;
      function render() {
        list.innerHTML = '';
        hits.forEach(function (e, k) {
          var li = el('li', 'gp-search-hit' + (k === active ? ' active' : ''), list,
                      '<span class="gp-hit-name">' + e.html + '</span><small>' + e.kind +
                      '</small>');
          li.addEventListener('mousedown', function (ev) { ev.preventDefault(); pick(e); });
        });
        if (!hits.length && input.value.trim()) {
          el('li', 'gp-search-none', list, 'Nicht gefunden');
        }
      }
      function pick(e) {
        input.value = unesc(e.html); hits = []; list.innerHTML = ''; gp.select(e);
      }
      input.addEventListener('input', function () {
        hits = gp.find(input.value, 8); active = hits.length ? 0 : -1; render();
      });
      input.addEventListener('keydown', function (ev) {
        if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
          ev.preventDefault();
          if (hits.length) {
            active = (active + (ev.key === 'ArrowDown' ? 1 : hits.length - 1)) % hits.length;
            render();
          }
        } else if (ev.key === 'Enter') {
          ev.preventDefault();
          if (!hits.length) { hits = gp.find(input.value, 8); active = 0; }
          if (hits.length) { pick(hits[Math.max(active, 0)]); } else { render(); }
        } else if (ev.key === 'Escape') { hits = []; list.innerHTML = ''; }
      });
      input.addEventListener('blur', function () { setTimeout(function () {
        hits = []; list.innerHTML = ''; }, 150); });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    c.addTo(map);
  };

  // ------------------------------------------------------------------ query panel
  var OPS = {n: ['=', '≠', '<', '≤', '>', '≥'], b: ['='], s: ['=', '≠'],
             t: ['enthält', 'beginnt mit', '=', '≠']};
  function parseNum(t) {
    t = String(t).replace(/\s/g, '').replace(/%$/, '');
    if (t.indexOf(',') >= 0) { t = t.replace(/\./g, '').replace(',', '.'); }
    return t === '' ? NaN : Number(t);
  }
  function distinct(r, j) {
    var seen = {}, out = [];
    r.d.vals[j].forEach(function (v) {
      if (v !== null && v !== '' && !seen[v]) { seen[v] = 1; out.push(v); }
    });
    return out.sort(function (a, b) {
      return typeof a === 'number' ? a - b : unesc(a).localeCompare(unesc(b), 'de');
    });
  }
  function isList(r, j) {
    var c = r.d.cols[j];
    return c[2] === 's' && distinct(r, j).length <= 80;
  }
  function testAttr(r, j, op, val, i) {
    var c = r.d.cols[j], v = r.d.vals[j][i];
    if (v === null || v === undefined || v === '') { return false; }
    if (c[2] === 'b') { return v === (val === 'ja'); }
    if (c[2] === 'n') {
      var x = parseNum(val);
      if (isNaN(x)) { return false; }
      return {'=': v === x, '≠': v !== x, '<': v < x, '≤': v <= x, '>': v > x,
              '≥': v >= x}[op];
    }
    if (op === '=' || op === '≠') {
      var eq = fold(unesc(v)) === fold(unesc(val));
      return op === '=' ? eq : !eq;
    }
    var fv = fold(unesc(v)), fq = fold(unesc(val));
    return op === 'enthält' ? fv.indexOf(fq) >= 0 : fv.indexOf(fq) === 0;
  }
  function inArea(r, i, a, f) {
    var keys = a.d.key ? [a.d.key] : [];
    for (var k = 0; k < keys.length; k++) {
      var src = r.d.keys && r.d.keys[keys[k]], own = a.d.keys && a.d.keys[keys[k]];
      if (src && own) { return src[i] !== null && src[i] === own[f]; }
    }
    var p = locate(r, i);
    return !!p && inGeom(gp.geoms[a.d.g[f]], p[0], p[1]);
  }
  function projected(r) {
    if (r.kind === 'points') {
      r.pxy = r.pxy || r.xy.map(function (ll) { return gp.project(ll[0], ll[1]); });
      return r.pxy;
    }
    r.prings = r.prings || r.d.g.map(function (gid) {
      return gp.geoms[gid].map(function (poly) {
        return poly.map(function (ring) {
          return ring.map(function (ll) { return gp.project(ll[0], ll[1]); });
        });
      });
    });
    return r.prings;
  }
  // Distance in metres (city CRS) from record i of r to the nearest of the target points.
  function nearest(r, i, t, idx) {
    var best = Infinity, tp = projected(t);
    if (r.kind === 'points') {
      var p = projected(r)[i];
      idx.forEach(function (k) {
        var d = Math.hypot(tp[k][0] - p[0], tp[k][1] - p[1]);
        if (d < best) { best = d; }
      });
      return best;
    }
    var parts = gp.geoms[r.d.g[i]], rings = projected(r)[i];
    for (var n = 0; n < idx.length; n++) {
      var ll = t.xy[idx[n]];
      if (inGeom(parts, ll[0], ll[1])) { return 0; }
    }
    idx.forEach(function (k) {
      rings.forEach(function (poly) {
        poly.forEach(function (ring) {
          for (var a = 0, b = ring.length - 1; a < ring.length; b = a++) {
            var d = segDist(tp[k], ring[b], ring[a]);
            if (d < best) { best = d; }
          }
        });
      });
    });
    return best;
  }
  function rowsOf(r) { var out = []; for (var i = 0; i < r.count; i++) { out.push(i); } return out; }

  // spec = {layer, mode: 'all'|'any', conds: [{t:'a', col, op, val} |
  //   {t:'in', area, f} | {t:'near', op:'≤'|'>', m, target, sub: {col, op, val}|null}]}
  gp.runQuery = function (spec) {
    var r = gp.registry[spec.layer], dist = null, dlabel = null;
    var tests = spec.conds.map(function (c) {
      if (c.t === 'a') { return function (i) { return testAttr(r, c.col, c.op, c.val, i); }; }
      if (c.t === 'in') {
        var a = gp.registry[c.area];
        return function (i) { return inArea(r, i, a, c.f); };
      }
      var t = gp.registry[c.target], idx = rowsOf(t).filter(function (k) {
        return !c.sub || testAttr(t, c.sub.col, c.sub.op, c.sub.val, k);
      });
      var ds = rowsOf(r).map(function (i) { return nearest(r, i, t, idx); });
      if (!dist) { dist = ds; dlabel = 'Abstand zu ' + t.d.name + ' (m)'; }
      return function (i) { return c.op === '>' ? ds[i] > c.m : ds[i] <= c.m; };
    });
    var rows = rowsOf(r).filter(function (i) {
      if (!tests.length) { return true; }
      return spec.mode === 'any' ? tests.some(function (f) { return f(i); })
        : tests.every(function (f) { return f(i); });
    });
    return {r: r, rows: rows, dist: dist, dlabel: dlabel};
  };
  gp.csv = function (res) {
    var r = res.r, cols = r.d.cols, head = cols.map(function (c) { return unesc(c[1]); });
    function cell(x) {
      var s = String(x);
      return /[;"\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    }
    function num(v, dec) {
      if (v === null || v === undefined || isNaN(v)) { return ''; }
      return (dec === undefined ? String(v) : v.toFixed(dec)).replace('.', ',');
    }
    if (res.dist) { head.push(unesc(res.dlabel)); }
    if (r.kind === 'points') { head.push('Breite (WGS84)', 'Länge (WGS84)'); }
    var lines = [head.map(cell).join(';')];
    res.rows.forEach(function (i) {
      var row = cols.map(function (c, j) {
        var v = r.d.vals[j][i];
        if (v === null || v === undefined) { return ''; }
        if (c[2] === 'b') { return v ? 'ja' : 'nein'; }
        if (c[2] === 'n') { return num(v); }
        return unesc(v);
      });
      if (res.dist) { row.push(num(res.dist[i], 1)); }
      if (r.kind === 'points') { row.push(num(r.xy[i][0]), num(r.xy[i][1])); }
      lines.push(row.map(cell).join(';'));
    });
    return '\ufeff' + lines.join('\r\n') + '\r\n';
  };

  function options(sel, items, selected) {
    sel.innerHTML = '';
    items.forEach(function (it) {
      var o = el('option', '', sel, it[1]);
      o.value = it[0];
      if (String(it[0]) === String(selected)) { o.selected = true; }
    });
  }
  function queryLayers() {
    return Object.keys(gp.registry).map(function (k) { return gp.registry[k]; })
      .filter(function (r) { return r.kind !== 'labels' && r.d.cols && r.d.cols.length; });
  }
  function valueWidget(parent, r, j, cls) {
    var c = r.d.cols[j], w;
    if (c[2] === 'b') {
      w = el('select', cls, parent);
      options(w, [['ja', 'ja'], ['nein', 'nein']]);
    } else if (isList(r, j)) {
      w = el('select', cls, parent);
      options(w, distinct(r, j).map(function (v) { return [unesc(v), v]; }));
    } else {
      w = el('input', cls, parent);
      w.type = 'text';
      w.setAttribute('inputmode', c[2] === 'n' ? 'decimal' : 'text');
      w.placeholder = c[2] === 'n' ? 'Zahl' : 'Text';
      if (c[2] === 's') {
        var dl = el('datalist', '', parent), id = 'gp-dl-' + Math.random().toString(36).slice(2);
        dl.id = id;
        distinct(r, j).slice(0, 400).forEach(function (v) { el('option', '', dl).value = unesc(v); });
        w.setAttribute('list', id);
      }
    }
    return w;
  }
  function opsFor(r, j) {
    var c = r.d.cols[j];
    return c[2] === 'n' ? OPS.n : c[2] === 'b' ? OPS.b : isList(r, j) ? OPS.s : OPS.t;
  }
  function attrOptions(r, withAll) {
    var items = withAll ? [['', '(alle)']] : [];
    r.d.cols.forEach(function (c, j) { items.push(['a:' + j, c[1]]); });
    return items;
  }
  // One condition row: attribute | "liegt in" | "Entfernung zu"; read() gives its spec.
  function condRow(parent, r, onRemove) {
    var row = el('div', 'gp-q-cond', parent), field = el('select', 'gp-q-field', row);
    var items = attrOptions(r, false);
    var areas = queryLayers().filter(function (a) { return a.kind === 'polygons' && a.d.s; });
    var points = queryLayers().filter(function (a) { return a.kind === 'points'; });
    if (areas.length) { items.push(['in', 'liegt in …']); }
    if (points.length && gp.proj) { items.push(['near', 'Entfernung zu …']); }
    options(field, items);
    var body = el('span', 'gp-q-body-row', row), del = el('button', 'gp-q-del', row, '×');
    del.type = 'button';
    del.title = 'Bedingung entfernen';
    del.addEventListener('click', function () { row.remove(); onRemove(); });
    var read = null;
    function attrPart(box, layer, j, cls) {
      var op = el('select', 'gp-q-op' + cls, box);
      options(op, opsFor(layer, j).map(function (o) { return [o, o]; }));
      var val = valueWidget(box, layer, j, 'gp-q-value' + cls);
      return function () { return {col: j, op: op.value, val: val.value}; };
    }
    function build() {
      body.innerHTML = '';
      var v = field.value;
      if (v.indexOf('a:') === 0) {
        var get = attrPart(body, r, Number(v.slice(2)), '');
        read = function () { var s = get(); s.t = 'a'; return s; };
      } else if (v === 'in') {
        var area = el('select', 'gp-q-area', body), feat = el('select', 'gp-q-value', body);
        options(area, areas.map(function (a) { return [a.name, a.name]; }));
        var fill = function () {
          var a = gp.registry[area.value];
          var names = a.d.vals[a.d.s.c].map(function (n, i) { return [i, n]; })
            .filter(function (x) { return x[1] !== null; })
            .sort(function (x, y) { return unesc(x[1]).localeCompare(unesc(y[1]), 'de'); });
          options(feat, names);
        };
        area.addEventListener('change', fill);
        fill();
        read = function () {
          return {t: 'in', area: area.value, f: Number(feat.value)};
        };
      } else {
        var op = el('select', 'gp-q-op', body);
        options(op, [['≤', 'höchstens'], ['>', 'mehr als']]);
        var m = el('input', 'gp-q-m', body);
        m.type = 'number'; m.min = '0'; m.step = '50'; m.value = '500';
        el('span', 'gp-q-unit', body, 'm von');
        var target = el('select', 'gp-q-target', body);
        options(target, points.map(function (a) { return [a.name, a.name]; }));
        var sub = el('span', 'gp-q-subrow', body), subRead = null;
        var fillSub = function () {
          sub.innerHTML = '';
          var t = gp.registry[target.value];
          el('span', 'gp-q-unit', sub, 'mit');
          var tf = el('select', 'gp-q-tfield', sub), rest = el('span', '', sub);
          options(tf, attrOptions(t, true));
          var fillRest = function () {
            rest.innerHTML = '';
            subRead = tf.value ? attrPart(rest, t, Number(tf.value.slice(2)), ' gp-q-sub') : null;
          };
          tf.addEventListener('change', fillRest);
          fillRest();
        };
        target.addEventListener('change', fillSub);
        fillSub();
        read = function () {
          return {t: 'near', op: op.value, m: parseNum(m.value), target: target.value,
                  sub: subRead ? subRead() : null};
        };
      }
    }
    field.addEventListener('change', build);
    build();
    return {row: row, read: function () { return read(); }};
  }
  function describe(spec) {
    return spec.conds.map(function (c) {
      var r = gp.registry[spec.layer];
      if (c.t === 'a') { return r.d.cols[c.col][1] + ' ' + c.op + ' ' + escHtml(c.val); }
      if (c.t === 'in') {
        var a = gp.registry[c.area];
        return 'liegt in ' + a.d.vals[a.d.s.c][c.f];
      }
      var t = gp.registry[c.target], s = c.sub ? ' mit ' + t.d.cols[c.sub.col][1] + ' ' +
        c.sub.op + ' ' + escHtml(c.sub.val) : '';
      return (c.op === '>' ? 'mehr als ' : 'höchstens ') + fmtNum(c.m, 0) + ' m von ' +
        t.d.name + s;
    }).join(spec.mode === 'any' ? ' oder ' : ' und ');
  }
  gp.query = function (map) {
    var layers = queryLayers();
    if (!layers.length) { return; }
    var c = L.control({position: 'topleft'});
    c.onAdd = function () {
      var div = L.DomUtil.create('div', 'gp-query');
      var det = el('details', '', div);
      el('summary', '', det, 'Abfrage');
      det.addEventListener('toggle', function () {
        // the open panel and the legend share the left side: close the legend meanwhile
        var leg = document.querySelector('.gp-legend-details');
        if (det.open && leg) { leg.open = false; }
        // on phones the open panel is a sheet at the bottom: above the bottom controls
        var corner = div.parentNode;
        if (corner) { corner.style.zIndex = det.open ? 1200 : ''; }
      });
      var box = el('div', 'gp-q-panel', det);
      el('div', 'gp-q-hint', box, 'Ebene wählen, Bedingungen hinzufügen, „Anzeigen“. ' +
         'Ohne Server: alles rechnet diese Seite.');
      var lrow = el('label', 'gp-q-lrow', box, '<span>Ebene</span>');
      var lsel = el('select', 'gp-q-layer', lrow);
      options(lsel, layers.map(function (r) { return [r.name, r.name]; }));
      var conds = el('div', 'gp-q-conds', box), rows = [];
      var acts = el('div', 'gp-q-actions', box);
      var add = el('button', 'gp-q-add', acts, '+ Bedingung');
      var mode = el('select', 'gp-q-mode', acts);
      options(mode, [['all', 'alle erfüllt'], ['any', 'eine erfüllt']]);
      var run = el('button', 'gp-q-run', acts, 'Anzeigen');
      var clear = el('button', 'gp-q-clear', acts, 'Zurücksetzen');
      [add, run, clear].forEach(function (b) { b.type = 'button'; });
      var out = el('div', 'gp-q-result', box), last = null;
      function layer() { return gp.registry[lsel.value]; }
      function reset() {
        conds.innerHTML = ''; rows = []; out.innerHTML = ''; last = null; gp.hl.clearLayers();
      }
      lsel.addEventListener('change', reset);
      add.addEventListener('click', function () {
        var cr = condRow(conds, layer(), function () {
          rows = rows.filter(function (x) { return x !== cr; });
        });
        rows.push(cr);
      });
      clear.addEventListener('click', reset);
      run.addEventListener('click', function () {
        var r = layer();
        var spec = {layer: r.name, mode: mode.value, conds: rows.map(function (x) {
          return x.read(); })};
        var res = last = gp.runQuery(spec);
        out.innerHTML = '';
        el('div', 'gp-q-count', out, '<b>' + fmtNum(res.rows.length, 0) + '</b> von ' +
           fmtNum(r.count, 0) + ' (' + r.d.name + ')');
        if (spec.conds.length) { el('div', 'gp-q-summary', out, describe(spec)); }
        var csv = el('button', 'gp-q-csv', out, 'CSV herunterladen');
        csv.type = 'button';
        csv.addEventListener('click', function () {
          var blob = new Blob([gp.csv(last)], {type: 'text/csv;charset=utf-8'});
          var a = el('a', '', document.body);
          a.href = URL.createObjectURL(blob);
          a.download = 'abfrage_' + (fold(unesc(r.name)).replace(/ /g, '_') || 'ebene') + '.csv';
          a.click();
          setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
        });
        var wrap = el('div', 'gp-q-tablewrap', out), tab = el('table', 'gp-q-table', wrap);
        var tipCols = r.d.cols.map(function (col, j) { return [col, j]; })
          .filter(function (x) { return x[0][4]; });
        var head = el('tr', '', tab);
        tipCols.forEach(function (x) { el('th', '', head, x[0][1]); });
        if (res.dist) { el('th', '', head, res.dlabel); }
        var max = 300;
        res.rows.slice(0, max).forEach(function (i) {
          var tr = el('tr', '', tab);
          tipCols.forEach(function (x) { el('td', '', tr, show(x[0], r.d.vals[x[1]][i])); });
          if (res.dist) { el('td', 'gp-num', tr, fmtNum(res.dist[i], 0)); }
          tr.addEventListener('click', function () {
            var ll = locate(r, i);
            gp.map.setView(ll, Math.max(gp.map.getZoom(), 14));
            gp.openInfo({r: r, i: i}, L.latLng(ll[0], ll[1]));
          });
        });
        if (res.rows.length > max) {
          el('div', 'gp-q-more', out, 'Die Tabelle zeigt die ersten ' + max +
             ' Zeilen; die CSV-Datei enthält alle.');
        }
        if (!layerOn(r)) { gp.map.addLayer(r.layer); }
        gp.mark(r, res.rows);
        if (res.rows.length) {
          var pts = res.rows.map(function (i) { return locate(r, i); }).filter(Boolean);
          if (r.kind === 'polygons') {
            var b = L.latLngBounds([]);
            res.rows.forEach(function (i) { b.extend(r.feats[i].bounds); });
            fitTo(b, 15);
          } else if (pts.length) { fitTo(L.latLngBounds(pts), 15); }
        }
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    c.addTo(map);
  };
})();
