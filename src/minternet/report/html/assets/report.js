/* minternet report: the page's script. Hand-written, no library, no network.
 * It reads the run's JSON (script#model), draws the topology, a virtualised ladder (one
 * arrow per captured frame: the sending end goes to the link, the receiving end comes from
 * it), the detail pane (layers decoded by minternet's codecs, laid out with byte ranges over
 * the frame's own bytes) and the story, and plays the run back in virtual time. */
(function () {
  'use strict';
  var M = JSON.parse(document.getElementById('model').textContent);
  var S = M.strings, F = M.f, N = F.t.length, NODES = M.nodes;
  var PH = M.phases;
  var RETRANS = 1, LOST = 2, DROPPED = 4, UNCAPTURED = 8;
  var $ = function (id) { return document.getElementById(id); };
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c];
    });
  }
  function secs(us) { return (us / 1e6).toFixed(6); }

  /* ---- bytes: base64, a reference to an identical frame, or a diff against the packet's first copy */
  var cache = new Map();
  function b64(s) {
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function bytesOf(k) {
    if (cache.has(k)) return cache.get(k);
    var spec = F.b[k], out;
    if (typeof spec === 'string') out = b64(spec);
    else if (typeof spec === 'number') out = bytesOf(spec);
    else {
      out = bytesOf(spec[0]).slice();
      if (spec[1]) spec[1].split(',').forEach(function (run) {
        var c = run.indexOf(':'), at = +run.slice(0, c), hex = run.slice(c + 1);
        for (var i = 0; i < hex.length; i += 2) out[at + i / 2] = parseInt(hex.substr(i, 2), 16);
      });
    }
    if (cache.size > 2000) cache.clear();
    cache.set(k, out);
    return out;
  }
  function hex2(b) { return (b < 16 ? '0' : '') + b.toString(16); }
  function fieldValue(bytes, f) {
    var kind = f[3], at = f[1], n = f[2];
    if (kind === 't') return S[f[4]];
    var part = bytes.subarray(at, at + n);
    if (kind === 'm') return Array.prototype.map.call(part, hex2).join(':');
    if (kind === 'i') return Array.prototype.join.call(part, '.');
    if (kind === 'h' || kind === 'f') {
      var w = 0;
      for (var q = 0; q < part.length; q++) w = w * 256 + part[q];
      if (kind === 'h') return '0x' + ('0000' + w.toString(16)).slice(-2 * part.length) + ' (' + w + ')';
      var names = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'].filter(function (_, i) { return w & (1 << i); });
      return names.join(', ') || 'none';
    }
    if (kind === 'u') {
      var v = 0;
      for (var i = 0; i < part.length; i++) v = v * 256 + part[i];
      return String(v);
    }
    var h = Array.prototype.map.call(part.subarray(0, 64), hex2).join('');
    return part.length > 64 ? h + '… (' + part.length + ' bytes)' : h;
  }

  /* ---- header, failure ---- */
  $('title').textContent = M.title;
  $('summary').textContent = M.summary;
  if (M.failure) {
    var fb = $('failure');
    fb.hidden = false;
    fb.innerHTML = '<b>What happened: ' + esc(M.failure.summary) + '</b> <span class="note">(at ' +
      esc(M.failure.where) + ', ' + secs(M.failure.t) + ' s)</span><br>' + esc(M.failure.explanation);
  }

  /* ---- filters ---- */
  var shown = PH.map(function () { return true; });
  var point = -1; // capture point filter: a node index, or -1 for every interface
  var filters = $('filters');
  var present = PH.map(function () { return 0; });
  for (var k0 = 0; k0 < N; k0++) present[F.ph[k0]]++;
  PH.forEach(function (name, i) {
    if (!present[i]) return;
    var l = document.createElement('label');
    l.innerHTML = '<input type="checkbox" checked data-ph="' + i + '"> <span class="chip" style="background:var(--' +
      name + ')"></span> ' + esc(name) + ' <span class="note">' + present[i] + '</span>';
    filters.appendChild(l);
  });
  filters.addEventListener('change', function (e) {
    var t = e.target;
    if (t.dataset.ph !== undefined) { shown[+t.dataset.ph] = t.checked; rebuild(); }
  });
  var sel = $('point');
  M.lanes.forEach(function (n) {
    var o = document.createElement('option');
    o.value = n; o.textContent = 'at ' + NODES[n].name;
    sel.appendChild(o);
  });
  sel.addEventListener('change', function () { point = +sel.value; rebuild(); });

  /* ---- ladder geometry ---- */
  var ladder = $('ladder'), svg = $('ladsvg'), spacer = $('spacer');
  var ROWH = 18, GUTTER = 64, INFOW = 0, laneX = {}, rows = [], rowOf = new Int32Array(N);
  var selected = -1, highlighted = new Set();
  var arrows = 0;
  for (var a0 = 0; a0 < N; a0++) if (F.n[a0] >= 0) arrows++;
  ladder.dataset.arrows = String(arrows);
  ladder.dataset.rowh = String(ROWH);
  function layoutLanes() {
    var w = ladder.clientWidth || 800;
    INFOW = Math.max(240, Math.round(w * 0.34));
    var span = Math.max(200, w - GUTTER - INFOW - 20), L = M.lanes.length;
    var step = L > 1 ? span / (L - 1) : 0;
    var html = '';
    M.lanes.forEach(function (n, j) {
      laneX[n] = GUTTER + 10 + j * step;
      var nd = NODES[n];
      var tip = nd.hostname + '\n' + nd.ifaces.map(function (f) { return f[0] + ' ' + f[2] + ' ' + f[1]; }).join('\n');
      html += '<span class="' + (j % 2 ? 'low' : '') + '" style="left:' + laneX[n] + 'px" title="' + esc(tip) + '">' + esc(nd.name) + '</span>';
    });
    $('lanes').innerHTML = html;
  }
  function rebuild() {
    rows = [];
    rowOf.fill(-1);
    for (var k = 0; k < N; k++) {
      if (!shown[F.ph[k]]) continue;
      if (point >= 0 && F.n[k] !== point) continue;
      rowOf[k] = rows.length;
      rows.push(k);
    }
    $('count').textContent = rows.length + ' of ' + N + ' frames';
    if (M.failure) ladder.dataset.failrow = String(failRow());
    fitTime();
    spacer.style.height = totalHeight() + 'px';
    draw();
  }
  /* the y axis: one row per frame, or virtual time (arrows slant from send to receipt) */
  var mode = 'rows', SCALE = 1, T0 = 0;
  function fitTime() {
    T0 = rows.length ? F.t[rows[0]] : 0;
    var gaps = [];
    for (var i = 1; i < rows.length; i++) { var g = F.t[rows[i]] - F.t[rows[i - 1]]; if (g > 0) gaps.push(g); }
    gaps.sort(function (x, y) { return x - y; });
    var med = gaps.length ? gaps[gaps.length >> 1] : 1e6;
    SCALE = Math.min(ROWH / med, 1.5e7 / Math.max(1, endTime() - T0));
  }
  function endTime() { return Math.max(M.end, rows.length ? F.t[rows[rows.length - 1]] : 0); }
  function yT(us) { return (us - T0) * SCALE + ROWH; }
  function rowY(r) { return mode === 'rows' ? r * ROWH + ROWH / 2 : yT(F.t[rows[r]]); }
  function totalHeight() { return mode === 'rows' ? rows.length * ROWH + 40 : yT(endTime()) + 40; }
  function yAt(us) { return mode === 'rows' ? firstRowAt(us) * ROWH : yT(us); }
  function rowsIn(top, bottom) {
    if (mode === 'rows') return [Math.max(0, Math.floor(top / ROWH)), Math.min(rows.length, Math.ceil(bottom / ROWH))];
    return [firstRowAt(T0 + (top - ROWH) / SCALE), firstRowAt(T0 + (bottom - ROWH) / SCALE + 1)];
  }
  $('axis').addEventListener('change', function () {
    var k = selected >= 0 && rowOf[selected] >= 0 ? selected : (rows.length ? rows[rowsIn(ladder.scrollTop, ladder.scrollTop + 1)[0]] : -1);
    mode = $('axis').value;
    spacer.style.height = totalHeight() + 'px';
    if (k !== undefined && k >= 0) ladder.scrollTop = Math.max(0, rowY(rowOf[k]) - ladder.clientHeight / 3);
    draw();
  });
  function bandsSvg(top, bottom) {
    var out = '';
    M.story.forEach(function (ph, i) {
      if (ph.start === null) return;
      var y0 = yAt(ph.start), y1 = ph.end === null ? totalHeight() : yAt(ph.end + 1);
      if (y1 < top || y0 > bottom || y1 <= y0) return;
      out += '<g class="band"><rect x="0" y="' + y0 + '" width="6" height="' + (y1 - y0) + '" fill="hsl(' +
        (i * 67 % 360) + ',55%,60%)"><title>' + esc(ph.title) + '</title></rect></g>';
    });
    return out;
  }
  function firstRowAt(us) {
    var lo = 0, hi = rows.length;
    while (lo < hi) { var m = (lo + hi) >> 1; if (F.t[rows[m]] < us) lo = m + 1; else hi = m; }
    return lo;
  }
  function draw() {
    var top = ladder.scrollTop, h = ladder.clientHeight || 600, w = ladder.clientWidth || 800;
    var y0 = Math.max(0, top - 360), y1 = top + h + 360, span = rowsIn(y0, y1), r0 = span[0], r1 = span[1];
    svg.setAttribute('width', w);
    svg.setAttribute('height', y1 - y0);
    svg.style.top = y0 + 'px';
    var parts = ['<g transform="translate(0,' + (-y0) + ')">'];
    M.lanes.forEach(function (n) {
      parts.push('<line class="lane" x1="' + laneX[n] + '" x2="' + laneX[n] + '" y1="' + y0 + '" y2="' + y1 + '"></line>');
    });
    parts.push(bandsSvg(y0, y1));
    var labels = mode === 'time' || ROWH >= 12, infoX = w - INFOW, lastLabel = -1e9;
    for (var r = r0; r < r1; r++) {
      var k = rows[r], y = rowY(r), a = F.from[k] >= 0 ? laneX[F.from[k]] : laneX[F.n[k]] - 30;
      var b = F.to[k] >= 0 ? laneX[F.to[k]] : a + 30;
      var fl = F.fl[k], color = 'var(--' + PH[F.ph[k]] + ')';
      if (fl & LOST) b = (a + b) / 2;
      var ya = y, yb = y;
      if (mode === 'time') {
        var sent = F.d[k] ? F.t2[k] : F.t[k], got = F.d[k] ? F.t[k] : F.t2[k];
        ya = sent >= 0 ? yT(sent) : y - 4;
        yb = got >= 0 ? yT(got) : ya + 4;
      }
      var cls = 'row' + (fl & RETRANS ? ' retrans' : '') + (fl & LOST ? ' lost' : '') + (fl & UNCAPTURED ? ' uncaptured' : '') +
        (fl & DROPPED ? ' dropped' : '') + (k === selected ? ' sel' : '') + (highlighted.has(k) ? ' hl' : '');
      var g = '<g class="' + cls + '" data-frame="' + k + '" data-no="' + F.no[k] + '" tabindex="-1"><rect class="bg" x="0" y="' + (y - ROWH / 2) +
        '" width="' + w + '" height="' + ROWH + '"></rect>';
      g += '<line x1="' + a + '" y1="' + ya + '" x2="' + b + '" y2="' + yb + '" stroke="' + color + '"' +
        (fl & LOST ? '' : ' marker-end="url(#head)"') + '></line>';
      if (fl & LOST) g += cross(b, yb, 'lost on the link');
      if (fl & DROPPED) g += cross(b, yb, 'dropped here');
      if (labels && y - lastLabel >= 11) {
        lastLabel = y;
        g += '<text class="t" x="9" y="' + y + '">' + secs(F.t[k]).slice(0, 9) + '</text>';
        var label = (fl & RETRANS ? '↻ ' : '') + (fl & LOST ? '✕ ' : '') + S[F.info[k]];
        g += '<text class="info" x="' + infoX + '" y="' + y + '" fill="' + color + '">' +
          esc(label).slice(0, 160) + '</text>';
      }
      parts.push(g + '</g>');
    }
    if (M.failure) {
      var fr = failRow(), fy = mode === 'rows' ? rowY(fr) + ROWH / 2 : yT(M.failure.t);
      if (fy >= y0 && fy <= y1) parts.push('<g class="failmark" id="failmark" data-row="' + fr + '"><line x1="0" x2="' + w +
        '" y1="' + fy + '" y2="' + fy + '"></line><text x="' + (GUTTER + 4) + '" y="' + (fy - 3) + '">✕ ' +
        esc(M.failure.summary) + '</text></g>');
    }
    parts.push('</g>');
    svg.innerHTML = '<defs><marker id="head" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto">' +
      '<path d="M0,0 L8,4 L0,8 z" fill="context-stroke"></path></marker></defs>' + parts.join('');
  }
  function failRow() { return Math.min(firstRowAt(M.failure.t), Math.max(rows.length - 1, 0)); }
  function cross(x, y, why) {
    return '<g class="x"><title>' + why + '</title><line x1="' + (x - 4) + '" y1="' + (y - 4) + '" x2="' + (x + 4) + '" y2="' +
      (y + 4) + '"></line><line x1="' + (x - 4) + '" y1="' + (y + 4) + '" x2="' + (x + 4) + '" y2="' + (y - 4) + '"></line></g>';
  }
  var pending = false;
  ladder.addEventListener('scroll', function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; draw(); });
  });
  svg.addEventListener('click', function (e) {
    var g = e.target.closest('[data-frame]');
    if (g) select(+g.dataset.frame, false);
  });
  function reveal(k) {
    var r = rowOf[k];
    if (r < 0) return;
    var y = rowY(r), top = ladder.scrollTop, h = ladder.clientHeight;
    if (y < top + ROWH || y > top + h - 2 * ROWH) ladder.scrollTop = Math.max(0, y - h / 3);
  }
  function zoom(f) {
    var h = ladder.clientHeight, centre = ladder.scrollTop + h / 2;
    if (mode === 'rows') {
      var mid = centre / ROWH;
      ROWH = Math.max(3, Math.min(48, Math.round(ROWH * f)));
      ladder.dataset.rowh = String(ROWH);
      spacer.style.height = totalHeight() + 'px';
      ladder.scrollTop = mid * ROWH - h / 2;
    } else {
      var t = T0 + (centre - ROWH) / SCALE;
      SCALE = Math.max(h / Math.max(1, endTime() - T0) / 2, Math.min(SCALE * f, 1.5e7 / Math.max(1, endTime() - T0)));
      spacer.style.height = totalHeight() + 'px';
      ladder.scrollTop = yT(t) - h / 2;
    }
    draw();
  }
  $('zin').onclick = function () { zoom(1.4); };
  $('zout').onclick = function () { zoom(1 / 1.4); };
  ladder.addEventListener('wheel', function (e) {
    if (!e.ctrlKey) return;
    e.preventDefault();
    zoom(e.deltaY < 0 ? 1.2 : 1 / 1.2);
  }, { passive: false });

  /* ---- detail pane ---- */
  function select(k, fromPlay) {
    selected = k;
    reveal(k);
    draw();
    showDetail(k);
    if (!fromPlay) { syncPlayTo(k); followStory(F.t[k]); }
    markTopology(k);
  }
  function showDetail(k) {
    var bytes = bytesOf(k), tree = M.trees[F.tree[k]], node = NODES[F.n[k]];
    var src = F.from[k] >= 0 ? NODES[F.from[k]].name : '?', dst = F.to[k] >= 0 ? NODES[F.to[k]].name : '?';
    var sent = F.d[k] ? F.t2[k] : F.t[k], got = F.d[k] ? F.t[k] : F.t2[k];
    var html = '<h2>' + (F.no[k] ? 'Frame ' + F.no[k] : 'Lost frame (not at a capture point)') + ': ' + bytes.length + ' bytes, ' + esc(src) + ' → ' + esc(dst) + '</h2>' +
      '<div class="note">captured ' + (F.d[k] ? 'arriving' : 'leaving') + ' on ' + esc(node.name + '/' + S[F.i[k]]) +
      (F.fl[k] & UNCAPTURED ? ' (not a capture point: shown because it was lost)' : '') + '; sent at ' +
      (sent >= 0 ? secs(sent) + ' s' : '?') + ', received at ' + (got >= 0 ? secs(got) + ' s' : '— never') + '</div>';
    var fl = F.fl[k];
    if (fl & RETRANS) html += '<div class="note">↻ a retransmission (this data was sent before)</div>';
    if (fl & LOST) html += '<div class="note" style="color:var(--bad)">✕ lost on the link: never received at the other end</div>';
    if (fl & DROPPED) html += '<div class="note" style="color:var(--bad)">✕ dropped by ' + esc(node.name) + '</div>';
    if (F.note[k] >= 0) html += '<div class="note">' + esc(S[F.note[k]]) + '</div>';
    tree.forEach(function (lay, li) {
      html += '<details class="layer" open><summary class="fld" data-s="' + lay[1] + '" data-l="' + lay[2] + '">' +
        esc(S[lay[0]]) + '</summary>';
      lay[3].forEach(function (f) {
        html += '<div class="fld" data-s="' + f[1] + '" data-l="' + f[2] + '" data-name="' + esc(S[f[0]]) + '">' +
          esc(S[f[0]]) + ': <span class="v">' + esc(fieldValue(bytes, f)) + '</span></div>';
      });
      html += '</details>';
    });
    html += '<div id="hex">' + hexdump(bytes) + '</div>' + copiesTable(k);
    $('detailbody').innerHTML = html;
  }
  function hexdump(bytes) {
    var out = '';
    for (var i = 0; i < bytes.length; i += 16) {
      out += '<span class="o">' + ('000' + i.toString(16)).slice(-4) + '</span>  ';
      for (var j = i; j < Math.min(i + 16, bytes.length); j++) out += '<span class="b" data-o="' + j + '">' + hex2(bytes[j]) + '</span> ';
      out += '\n';
    }
    return out;
  }
  function copiesTable(k) {
    var pk = F.pk[k];
    if (pk < 0) return '';
    var rowsHtml = '', count = 0;
    var lo = Math.max(0, k - 400), hi = Math.min(N, k + 400);
    for (var j = lo; j < hi; j++) {
      if (F.pk[j] !== pk) continue;
      var b = bytesOf(j), ip = b[12] === 8 && b[13] === 0;
      count++;
      rowsHtml += '<tr class="copy' + (j === k ? ' cur' : '') + '" data-frame="' + j + '"><td>' +
        esc((F.from[j] >= 0 ? NODES[F.from[j]].name : '?') + ' → ' + (F.to[j] >= 0 ? NODES[F.to[j]].name : '?')) +
        '</td><td>' + esc(NODES[F.n[j]].name + '/' + S[F.i[j]]) + '</td><td>' + secs(F.t[j]) + '</td><td>' + (ip ? b[22] : '') + '</td><td>' +
        fieldValue(b, [0, 6, 6, 'm']) + '</td><td>' + fieldValue(b, [0, 0, 6, 'm']) + '</td><td>' +
        (ip ? fieldValue(b, [0, 26, 4, 'i']) + ' → ' + fieldValue(b, [0, 30, 4, 'i']) : '') + '</td></tr>';
    }
    if (count < 2) return '';
    return '<h2>The same packet at every hop</h2><table id="copies"><tr><th>hop</th><th>captured on</th><th>time</th><th>TTL</th>' +
      '<th>source MAC</th><th>destination MAC</th><th>addresses</th></tr>' + rowsHtml + '</table>';
  }
  var detail = $('detailbody');
  function highlight(s, l) {
    detail.querySelectorAll('.hl').forEach(function (e) { e.classList.remove('hl'); });
    if (s === null) return;
    for (var o = s; o < s + l; o++) {
      var b = detail.querySelector('#hex .b[data-o="' + o + '"]');
      if (b) b.classList.add('hl');
    }
  }
  detail.addEventListener('mouseover', function (e) {
    var f = e.target.closest('.fld');
    if (f) { highlight(+f.dataset.s, +f.dataset.l); f.classList.add('hl'); return; }
    var b = e.target.closest('#hex .b');
    if (b) {
      var o = +b.dataset.o, best = null;
      detail.querySelectorAll('div.fld').forEach(function (x) {
        var s = +x.dataset.s, l = +x.dataset.l;
        if (o >= s && o < s + l && (best === null || l < +best.dataset.l)) best = x;
      });
      if (best) { highlight(+best.dataset.s, +best.dataset.l); best.classList.add('hl'); }
      else highlight(o, 1);
    }
  });
  detail.addEventListener('mouseleave', function () { highlight(null, 0); });
  detail.addEventListener('click', function (e) {
    var tr = e.target.closest('tr.copy');
    if (tr) select(+tr.dataset.frame, false);
  });

  /* ---- story ---- */
  var storyEl = $('story'), stepEls = [];
  M.story.forEach(function (ph, pi) {
    var sec = document.createElement('div');
    sec.className = 'phase';
    sec.innerHTML = '<h3>' + esc(ph.title) + (ph.start !== null ? ' <span class="note">' + secs(ph.start) + ' s</span>' : '') + '</h3>';
    ph.steps.forEach(function (st) {
      var d = document.createElement('div');
      d.className = 'step';
      d.tabIndex = 0;
      d.dataset.t = st[0];
      d.innerHTML = '<span class="t">' + secs(st[0]).slice(0, 8) + '</span><span class="n">' +
        esc(st[1] >= 0 ? NODES[st[1]].name : '') + '</span>' + esc(st[2]) +
        (st[3].length ? '<div class="dt">' + esc(st[3].join('\n')) + '</div>' : '');
      d.frames = stepFrames(st[0], st[1]);
      d.dataset.frames = d.frames.join(' ');
      sec.appendChild(d);
      stepEls.push(d);
    });
    storyEl.appendChild(sec);
  });
  if (!M.story.length) storyEl.innerHTML = '<p class="note">No story for this command.</p>';
  function stepFrames(t, n) {
    var lo = 0, hi = N;
    while (lo < hi) { var m = (lo + hi) >> 1; if (F.t[m] < t) lo = m + 1; else hi = m; }
    var out = [];
    for (var k = lo; k < N && F.t[k] === t; k++) if (n < 0 || F.n[k] === n) out.push(k);
    if (!out.length && n >= 0) {
      for (var j = lo; j < N && j < lo + 400; j++) if (F.n[j] === n) { out.push(j); break; }
    }
    return out;
  }
  function storyActivate(d) {
    highlighted = new Set(d.frames);
    if (d.frames.length) select(d.frames[0], false); else draw();
    stepEls.forEach(function (x) { x.classList.toggle('cur', x === d); });
  }
  storyEl.addEventListener('click', function (e) {
    var d = e.target.closest('.step');
    if (d) storyActivate(d);
  });
  storyEl.addEventListener('keydown', function (e) {
    var d = e.target.closest('.step');
    if (d && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); storyActivate(d); }
  });
  function followStory(t) {
    var cur = null;
    for (var i = 0; i < stepEls.length; i++) if (+stepEls[i].dataset.t <= t) cur = stepEls[i];
    stepEls.forEach(function (x) { x.classList.toggle('cur', x === cur); });
    if (cur) {
      var box = $('storybox'), y = cur.offsetTop - box.offsetTop;
      if (y < box.scrollTop || y > box.scrollTop + box.clientHeight - 20) box.scrollTop = y - 40;
    }
  }

  /* ---- TCP states at a time ---- */
  function showStates(t) {
    var now = {}, order = [], last = null;
    M.states.forEach(function (s) {
      if (s[0] > t) return;
      var key = (s[1] >= 0 ? NODES[s[1]].name : '?') + ' ' + S[s[2]];
      if (!(key in now)) order.push(key);
      now[key] = s;
      last = s;
    });
    var html = '<h2>TCP states at ' + secs(t) + ' s</h2>';
    order.forEach(function (key) {
      var s = now[key];
      html += '<div>' + esc(key) + ': <b>' + esc(S[s[4]]) + '</b> <span class="note">(' + esc(S[s[3]]) + ' → ' +
        esc(S[s[4]]) + ' at ' + secs(s[0]) + ' s' + (S[s[5]] ? ': ' + esc(S[s[5]]) : '') + ')</span></div>';
    });
    if (last) html += '<div id="lastchange">last change: ' + esc(NODES[last[1]] ? NODES[last[1]].name : '') + ' ' +
      esc(S[last[3]]) + ' → ' + esc(S[last[4]]) + '</div>';
    $('states').innerHTML = html;
  }

  /* ---- topology ---- */
  var topo = $('topo'), pos = {};
  (function drawTopology() {
    var names = NODES.map(function (n) { return n.name; }).concat(M.switches);
    var adj = {};
    names.forEach(function (n) { adj[n] = []; });
    M.links.forEach(function (l) {
      var a = l[0].split('/')[0], b = l[1].split('/')[0];
      adj[a].push(b); adj[b].push(a);
    });
    var start = M.lanes.length ? NODES[M.lanes[0]].name : names[0], depth = {}, q = [start];
    depth[start] = 0;
    while (q.length) {
      var x = q.shift();
      adj[x].forEach(function (y) { if (!(y in depth)) { depth[y] = depth[x] + 1; q.push(y); } });
    }
    var cols = {}, maxd = 0;
    names.forEach(function (n) {
      var d = n in depth ? depth[n] : 0;
      maxd = Math.max(maxd, d);
      (cols[d] = cols[d] || []).push(n);
    });
    var W = 1000, H = 190, rank = {};
    // order each column by where its neighbours in the previous column sit (fewer crossings)
    for (var d0 = 0; d0 <= maxd; d0++) {
      var col = cols[d0] || [];
      if (d0 > 0) {
        var score = {};
        col.forEach(function (n) {
          var ys = adj[n].filter(function (m) { return depth[m] === d0 - 1; }).map(function (m) { return rank[m]; });
          score[n] = ys.length ? ys.reduce(function (a, b) { return a + b; }, 0) / ys.length : 1e9;
        });
        col.sort(function (a, b) { return score[a] - score[b] || (a < b ? -1 : 1); });
      }
      col.forEach(function (n, i) { rank[n] = (i + 0.5) / col.length; });
    }
    Object.keys(cols).forEach(function (d) {
      cols[d].forEach(function (n, i) {
        pos[n] = [40 + (+d) * (W - 80) / Math.max(1, maxd), 20 + (i + 0.5) * (H - 30) / cols[d].length];
      });
    });
    var out = '';
    M.links.forEach(function (l) {
      var a = pos[l[0].split('/')[0]], b = pos[l[1].split('/')[0]];
      out += '<line class="tlink' + (l[4].length ? ' faulty' : '') + '" x1="' + a[0] + '" y1="' + a[1] + '" x2="' + b[0] +
        '" y2="' + b[1] + '"><title>' + esc(l[0] + ' — ' + l[1] + ': ' + l[2] + ' ms, ' + l[3] + ' Mbit/s' +
        (l[4].length ? ', faults: ' + l[4].join(', ') : '')) + '</title></line>';
    });
    names.forEach(function (n, i) {
      var p = pos[n], nd = i < NODES.length ? NODES[i] : null;
      var tip = nd ? nd.hostname + '\n' + nd.ifaces.map(function (f) { return f[0] + '  ' + f[2] + '  ' + f[1]; }).join('\n') : n + ' (switch)';
      var w = Math.max(40, n.length * 6 + 10);
      out += '<g class="tnode' + (nd ? '' : ' switch') + '" data-node="' + esc(n) + '" transform="translate(' + p[0] + ',' + p[1] + ')">' +
        '<title>' + esc(tip) + '</title><rect x="' + (-w / 2) + '" y="-9" width="' + w + '" height="18"></rect>' +
        '<text y="4">' + esc(n) + '</text></g>';
    });
    out += '<circle id="packet" r="6" cx="-20" cy="-20"></circle>';
    topo.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    topo.innerHTML = out;
  })();
  var anim = null;
  function markTopology(k) {
    topo.querySelectorAll('.tnode.active').forEach(function (e) { e.classList.remove('active'); });
    var me = NODES[F.n[k]].name;
    var from = pos[F.from[k] >= 0 ? NODES[F.from[k]].name : me], to = pos[F.to[k] >= 0 ? NODES[F.to[k]].name : me];
    if (F.fl[k] & LOST) to = [(from[0] + to[0]) / 2, (from[1] + to[1]) / 2];
    var g = topo.querySelector('.tnode[data-node="' + me + '"]');
    if (g) g.classList.add('active');
    var dot = $('packet'), t0 = performance.now(), dur = 250;
    if (anim) cancelAnimationFrame(anim);
    function stepAnim(now) {
      var f = Math.min(1, (now - t0) / dur);
      dot.setAttribute('cx', from[0] + (to[0] - from[0]) * f);
      dot.setAttribute('cy', from[1] + (to[1] - from[1]) * f);
      dot.style.fill = F.fl[k] & LOST ? 'var(--bad)' : 'var(--' + PH[F.ph[k]] + ')';
      if (f < 1) anim = requestAnimationFrame(stepAnim);
    }
    anim = requestAnimationFrame(stepAnim);
  }

  /* ---- play: frames and state changes in virtual time ---- */
  var play = [];
  (function () {
    var i = 0, j = 0, st = M.states;
    while (i < N || j < st.length) {
      if (j >= st.length || (i < N && F.t[i] <= st[j][0])) play.push([F.t[i], i++]);
      else play.push([st[j++][0], -1]);
    }
  })();
  var pp = -1, timer = null, scrub = $('scrub');
  scrub.max = String(Math.max(0, play.length - 1));
  function goTo(p) {
    pp = Math.max(0, Math.min(play.length - 1, p));
    scrub.value = String(pp);
    var ev = play[pp], t = ev[0];
    $('clock').textContent = secs(t) + ' s';
    if (ev[1] >= 0) select(ev[1], true);
    showStates(t);
    followStory(t);
    if (pp === play.length - 1) stop();
  }
  function syncPlayTo(k) {
    for (var p = 0; p < play.length; p++) if (play[p][1] === k) { pp = p; scrub.value = String(p); break; }
    $('clock').textContent = secs(F.t[k]) + ' s';
    showStates(F.t[k]);
  }
  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
    $('play').textContent = '▶';
    $('play').setAttribute('aria-label', 'play');
  }
  function start() {
    if (pp >= play.length - 1) pp = -1;
    $('play').textContent = '⏸';
    $('play').setAttribute('aria-label', 'pause');
    timer = setInterval(function () {
      var n = +$('speed').value;
      goTo(pp + n);
    }, 60);
  }
  $('play').onclick = function () { if (timer) stop(); else start(); };
  $('next').onclick = function () { goTo(pp + 1); };
  $('prev').onclick = function () { goTo(pp - 1); };
  $('first').onclick = function () { goTo(0); };
  $('last').onclick = function () { goTo(play.length - 1); };
  scrub.addEventListener('input', function () { goTo(+scrub.value); });

  /* ---- keyboard ---- */
  document.addEventListener('keydown', function (e) {
    var tag = (e.target.tagName || '').toLowerCase();
    if (tag === 'input' || tag === 'select') return;
    if (e.key === ' ' && !e.target.closest('.step')) { e.preventDefault(); $('play').click(); }
    else if (e.key === 'ArrowRight' || e.key === 'n') goTo(pp + 1);
    else if (e.key === 'ArrowLeft' || e.key === 'p') goTo(pp - 1);
    else if (e.key === 'ArrowDown' || e.key === 'j') { e.preventDefault(); moveSel(1); }
    else if (e.key === 'ArrowUp' || e.key === 'k') { e.preventDefault(); moveSel(-1); }
    else if (e.key === '+' || e.key === '=') zoom(1.4);
    else if (e.key === '-') zoom(1 / 1.4);
    else if (e.key === 'Home') goTo(0);
    else if (e.key === 'End') goTo(play.length - 1);
  });
  function moveSel(d) {
    if (!rows.length) return;
    var r = selected >= 0 && rowOf[selected] >= 0 ? rowOf[selected] + d : 0;
    select(rows[Math.max(0, Math.min(rows.length - 1, r))], false);
  }
  window.addEventListener('resize', function () { layoutLanes(); draw(); });
  window.addEventListener('beforeprint', function () { $('panels').open = true; });

  /* ---- panels: their data-frame is the run's frame index; the arrow showing it */
  var bySource = new Map();
  for (var s0 = 0; s0 < N; s0++) bySource.set(F.src[s0], s0);
  $('panels').addEventListener('click', function (e) {
    var el = e.target.closest('[data-frame]');
    if (!el) return;
    var k = bySource.get(+el.dataset.frame);
    if (k !== undefined) select(k, false);
  });

  layoutLanes();
  rebuild();
  showStates(0);
  document.body.dataset.ready = '1';
  performance.mark('interactive');
})();
