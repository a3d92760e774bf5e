// The dashboard's style and script, compiled in so the page needs nothing from elsewhere (no
// CDN, no font, no file on disk). The script's contract with page.cpp: tables are
// #t-<id> (grouped ones a <div> of <details>), rows tr[data-key] in the JSON's row order, one
// td per column. It polls /dashboard.json once per interval (setTimeout after each answer, so
// one request at a time and none while the tab is hidden), writes cells whose text changed,
// computes rates from totals between two readings (server clock, so a slow poll does not skew
// them), draws each service's last minutes of req/s (and err/s in red) on its canvas, and
// re-reads the page's tables only when the set of rows changed (a reload, a new worker).
#include "protocols/status/page.hpp"

namespace manifold::status {

const char* const kDashboardCss = R"css(
:root{--bad:#c62828;--badbg:#fdecea;--warn:#8a5a00;--warnbg:#fff6dc;--recent:#e6f0ff;
--line:#e3e6ea;--mute:#667085;--ok:#1b7f3b}
*{box-sizing:border-box}
body{margin:0;font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2433;
background:#f6f7f9}
header{display:flex;align-items:baseline;gap:16px;padding:10px 18px;background:#1d2433;color:#fff}
header h1{margin:0;font-size:17px;font-weight:600}
header h1 span{color:#9fb3d9;font-weight:400}
header p{margin:0;color:#c9d3e6;font-size:12px}
body.offline header{background:var(--bad)}
main{padding:6px 18px 24px}
section{margin:12px 0;background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 10px}
h2{margin:0 0 6px;font-size:14px;font-weight:600}
a.csv{font-size:11px;font-weight:400;color:var(--mute);margin-left:6px}
table{width:100%;border-collapse:collapse;table-layout:fixed}
th,td{padding:3px 6px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap;
overflow:hidden;text-overflow:ellipsis}
th{font-weight:500;color:var(--mute);font-size:12px}
.n{text-align:right;font-variant-numeric:tabular-nums}
tr.bad td{background:var(--badbg);color:var(--bad);font-weight:500}
tr.warn td{background:var(--warnbg);color:var(--warn)}
tr.recent td{background:var(--recent)}
td.changed{animation:flash 2.5s ease-out}
@keyframes flash{from{background:#ffe08a}to{background:transparent}}
.c-chart{width:196px}
canvas{display:block;width:180px;height:22px}
.c-service,.c-member,.c-region,.c-counter{width:16%}
.c-open,.c-slot,.c-index,.c-generation,.c-kind{width:6%}
.c-rps,.c-eps,.c-hits,.c-cpu{width:7%}
.c-bps,.c-bytes,.c-requests,.c-rss{width:8%}
#t-services .c-service{width:11%}
.c-errors{width:6%}
#t-services .c-figures{width:auto}
details{border-bottom:1px solid var(--line)}
summary{cursor:pointer;padding:3px 0}
summary span{color:var(--mute);font-size:11px}
details table{margin:2px 0 8px}
)css";

const char* const kDashboardJs = R"js(
(function () {
  'use strict';
  var body = document.body;
  var interval = Number(body.dataset.interval) || 2000;
  var keep = 91;  // points a chart shows, 2 px apart: three minutes at the default 2 s
  var previous = null;  // the last reading: {now, totals: {table: {key: [..]}}}
  var history = {};     // services row key -> [[req/s, err/s], ...]
  var polls = 0;
  var live = document.getElementById('live');

  function rateText(v, kind) {
    if (kind === 'pct') return v.toFixed(1) + '%';
    var bytes = kind === 'bps', base = bytes ? 1024 : 1000, u = 0;
    var units = bytes ? [' B/s', ' KiB/s', ' MiB/s', ' GiB/s'] : ['/s', 'k/s', 'M/s', 'G/s'];
    while (v >= base && u < units.length - 1) { v /= base; u++; }
    return (u === 0 && !bytes && v >= 10 ? v.toFixed(0) : v.toFixed(1)) + units[u];
  }

  function draw(canvas, points) {
    if (!canvas || !canvas.getContext) return;
    var g = canvas.getContext('2d'), w = canvas.width, h = canvas.height;
    g.clearRect(0, 0, w, h);
    if (!points || points.length < 2) return;
    var max = 1, n = points.length;
    var step = Math.max(2, (w - 2) / (n - 1));  // few points spread, then 2 px apart
    points.forEach(function (p) { max = Math.max(max, p[0], p[1]); });
    var x = function (i) { return w - 1 - (n - 1 - i) * step; };
    var y = function (v) { return h - 1 - (v / max) * (h - 3); };
    g.fillStyle = '#e3ecfb';
    g.beginPath();
    g.moveTo(x(0), h);
    points.forEach(function (p, i) { g.lineTo(x(i), y(p[0])); });
    g.lineTo(x(n - 1), h);
    g.fill();
    [[0, '#2f6fdf'], [1, '#c62828']].forEach(function (line) {
      g.beginPath();
      g.strokeStyle = line[1];
      g.lineWidth = 1.2;
      points.forEach(function (p, i) {
        if (i) g.lineTo(x(i), y(p[line[0]])); else g.moveTo(x(i), y(p[line[0]]));
      });
      g.stroke();
    });
  }

  function rowsOf(id) { return document.querySelectorAll('#t-' + id + ' tr[data-key]'); }

  function sameShape(data) {
    return data.tables.every(function (t) {
      var rows = rowsOf(t.id);
      return rows.length === t.rows.length && t.rows.every(function (r, i) {
        return rows[i].dataset.key === r.key;
      });
    });
  }

  function flash(td) {
    td.classList.remove('changed');
    void td.offsetWidth;  // restarts the animation
    td.classList.add('changed');
  }

  function apply(data) {
    var dt = previous ? (data.now - previous.now) / 1000 : 0;
    var totals = {};
    data.tables.forEach(function (t) {
      var rows = rowsOf(t.id), mine = totals[t.id] = {};
      var before = previous && previous.totals[t.id];
      t.rows.forEach(function (row, i) {
        var tr = rows[i], old = before && before[row.key], rates = [];
        mine[row.key] = row.totals;
        if (tr.className !== row.cls) tr.className = row.cls;
        row.cells.forEach(function (text, c) {
          var col = t.columns[c], td = tr.cells[c];
          if (!td) return;
          if (col.rate === 'chart') {
            var h = history[row.key] = history[row.key] || [];
            if (old && dt > 0) h.push(rates.slice(0, 2));
            if (h.length > keep) h.shift();
            draw(td.firstChild, h);
            return;
          }
          if (col.rate !== 'none' && text === '') {
            if (old && dt > 0) {
              var v = Math.max(0, row.totals[c] - old[c]) / dt;
              if (col.rate === 'pct') v /= 10;  // ms of CPU per second of wall time
              rates.push(v);
              text = rateText(v, col.rate);
            } else {
              rates.push(0);
              text = '\u2026';
            }
          }
          if (td.textContent === text) return;
          td.textContent = text;
          if (col.watch && polls > 0) flash(td);
        });
      });
    });
    previous = {now: data.now, totals: totals};
    polls++;
    body.dataset.polls = String(polls);
    body.classList.remove('offline');
    live.textContent = 'live, every ' + interval / 1000 + ' s: ' +
        new Date(data.now).toLocaleTimeString() + ' (' + polls + ' readings)';
  }

  // The set of rows changed: take the server's tables, keep open groups, then fill them.
  function reshape(data) {
    return fetch(location.pathname, {cache: 'no-store'}).then(function (r) {
      return r.text();
    }).then(function (html) {
      var open = {};
      document.querySelectorAll('details[open]').forEach(function (d) {
        open[d.dataset.group] = true;
      });
      var fresh = new DOMParser().parseFromString(html, 'text/html').querySelector('main');
      document.querySelector('main').replaceWith(fresh);
      document.querySelectorAll('details').forEach(function (d) {
        if (open[d.dataset.group]) d.open = true;
      });
      if (sameShape(data)) apply(data);
    });
  }

  function poll() {
    if (document.hidden) { setTimeout(poll, interval); return; }
    fetch('dashboard.json', {cache: 'no-store'}).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    }).then(function (data) {
      if (sameShape(data)) apply(data); else return reshape(data);
    }).catch(function (e) {
      body.classList.add('offline');
      live.textContent = 'no answer (' + e.message + '); retrying every ' + interval / 1000 + ' s';
    }).then(function () { setTimeout(poll, interval); });
  }

  poll();
})();
)js";

}  // namespace manifold::status
