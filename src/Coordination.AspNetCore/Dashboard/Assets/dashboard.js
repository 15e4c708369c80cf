// The coordination dashboard: polls <base>/api/snapshot and renders tables and SVG charts. No dependencies, no CDN.
"use strict";
(() => {
  const base = document.body.dataset.base || "";
  const refreshMs = Number(document.body.dataset.refreshMs) || 2000;
  const SVG = "http://www.w3.org/2000/svg";
  const $ = id => document.getElementById(id);
  const esc = v => String(v ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const clock = v => v ? new Date(v).toLocaleTimeString() : "";
  const hhmm = v => new Date(v).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const ms = v => v == null ? "–" : v < 1 ? v.toFixed(2) + " ms" : v < 1000 ? (v < 10 ? v.toFixed(1) : Math.round(v)) + " ms" : v < 60000 ? (v / 1000).toFixed(1) + " s" : (v / 60000).toFixed(1) + " min";
  const cls = (good, warn) => good ? "ok" : warn ? "warn" : "bad";
  const token = t => t ? String(t) : "–";

  function rows(table, items, render, empty, columns) {
    table.tBodies[0].innerHTML = items.length ? items.map(render).join("") : `<tr><td colspan="${columns}" class="muted">${empty}</td></tr>`;
  }

  function holder(h) {
    if (!h) return "";
    const name = h.instance ?? h.process ?? "unknown process";
    const detail = h.instance ? h.process : null;
    return `<span class="holder">${esc(name)}</span>${detail ? ` <span class="muted mono">${esc(detail)}</span>` : ""}`;
  }

  function holderList(list) {
    return list.map(h => `<div data-token="${esc(h.fencingToken)}">${holder(h)} · <span class="mono fencing-token">${esc(token(h.fencingToken))}</span> · ${ms(h.heldForMs)}</div>`).join("");
  }

  // ---------------------------------------------------------------- charts (SVG, drawn from the snapshot's buckets)

  function node(name, attrs, parent) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  function niceStep(x) {
    const p = Math.pow(10, Math.floor(Math.log10(x)));
    const f = x / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  }

  // A y scale: linear from 0 to a round maximum, or log between powers of ten (for latencies spanning decades).
  function yScale(values, log, top, bottom, integer) {
    if (log) {
      const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...values))));
      let hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...values))));
      if (hi <= lo) hi = lo * 10;
      const ticks = [];
      for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
      const y = v => bottom - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * (bottom - top);
      return { y, ticks };
    }
    const max = Math.max(1, ...values);
    const step = integer ? Math.max(1, niceStep(max / 4)) : niceStep(max / 4);
    const hi = Math.ceil(max / step) * step;
    const ticks = [];
    for (let t = 0; t <= hi + step / 2; t += step) ticks.push(t);
    return { y: v => bottom - v / hi * (bottom - top), ticks };
  }

  function frame(container, times, values, opts) {
    container.replaceChildren();
    const W = Math.max(320, container.clientWidth || 640), H = opts.height || 180;
    const m = { l: 52, r: 10, t: 8, b: 22 };
    const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": opts.label, "data-chart": opts.name }, container);
    const n = times.length;
    const slot = (W - m.l - m.r) / n;
    const x = i => m.l + (i + 0.5) * slot;
    if (!values.length) {
      svg.setAttribute("data-points", "0");
      node("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "empty" }, svg).textContent = "no data in this window yet";
      return null;
    }
    const s = yScale(values, opts.log, m.t, H - m.b, opts.integer);
    const axis = node("g", { class: "axis" }, svg);
    for (const t of s.ticks) {
      const y = s.y(t);
      node("line", { x1: m.l, x2: W - m.r, y1: y, y2: y, class: "grid-line" }, axis);
      node("text", { x: m.l - 6, y: y + 3, "text-anchor": "end" }, axis).textContent = opts.format(t);
    }
    const every = Math.max(1, Math.round(n / 6));
    for (let i = 0; i < n; i += every) {
      node("text", { x: x(i), y: H - 6, "text-anchor": "middle" }, axis).textContent = hhmm(times[i]);
    }
    node("line", { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b }, axis);
    return { svg, x, y: s.y, slot, H, m };
  }

  function legend(container, series, bars) {
    const div = document.createElement("div");
    div.className = "legend";
    div.innerHTML = series.map(s => `<span><span class="swatch ${s.cls}${bars ? " bars" : ""}"></span>${esc(s.name)}</span>`).join("");
    container.appendChild(div);
  }

  // Lines with a dot per bucket that has a value; a bucket without samples is a gap, never a zero.
  function lineChart(container, times, series, opts) {
    const values = series.flatMap(s => s.values.filter(v => v != null && (!opts.log || v > 0)));
    const f = frame(container, times, values, opts);
    let points = 0;
    if (f) {
      for (const s of series) {
        let d = "", open = false;
        s.values.forEach((v, i) => {
          if (v == null || (opts.log && v <= 0)) { open = false; return; }
          d += (open ? "L" : "M") + f.x(i).toFixed(1) + " " + f.y(v).toFixed(1);
          open = true;
        });
        node("path", { d, class: "series " + s.cls }, f.svg);
        s.values.forEach((v, i) => {
          if (v == null || (opts.log && v <= 0)) return;
          const c = node("circle", { cx: f.x(i), cy: f.y(v), r: 2.4, class: s.cls, "data-value": v }, f.svg);
          node("title", {}, c).textContent = `${s.name} ${hhmm(times[i])}: ${opts.format(v)}`;
          points++;
        });
      }
      f.svg.setAttribute("data-points", String(points));
    }
    legend(container, series, false);
  }

  // Grouped bars, one group per bucket; empty buckets draw nothing.
  function barChart(container, times, series, opts) {
    const values = series.flatMap(s => s.values);
    const f = frame(container, times, values.some(v => v > 0) ? values : [], opts);
    let points = 0;
    if (f) {
      const w = Math.max(1, f.slot * 0.8 / series.length);
      series.forEach((s, k) => s.values.forEach((v, i) => {
        if (!v) return;
        const y = f.y(v);
        const r = node("rect", { x: f.x(i) - f.slot * 0.4 + k * w, y, width: w, height: Math.max(1, f.H - f.m.b - y), class: s.cls, "data-value": v }, f.svg);
        node("title", {}, r).textContent = `${s.name} ${hhmm(times[i])}: ${v}`;
        points++;
      }));
      f.svg.setAttribute("data-points", String(points));
    }
    legend(container, series, true);
  }

  function renderCharts(metrics) {
    const times = metrics.points.map(p => p.t);
    const count = v => String(Math.round(v));
    for (const b of document.querySelectorAll(".bucket")) b.textContent = metrics.bucketSeconds + " s";
    lineChart($("chart-latency"), times, [
      { name: "p50", cls: "s0", values: metrics.points.map(p => p.p50) },
      { name: "p99", cls: "s1", values: metrics.points.map(p => p.p99) },
    ], { name: "latency", label: "acquire latency p50 and p99", log: true, format: ms });
    barChart($("chart-events"), times, [
      { name: "contentions", cls: "s1", values: metrics.points.map(p => p.contentions) },
      { name: "lost", cls: "s2", values: metrics.points.map(p => p.lost) },
      { name: "refused (fail closed)", cls: "s3", values: metrics.points.map(p => p.unavailable) },
    ], { name: "events", label: "contentions, lost locks and refusals", log: false, integer: true, format: count });
    lineChart($("chart-keys"), times, metrics.keys.map((k, i) => ({ name: k.key, cls: "s" + (i % 6), values: k.acquisitionSeries.map(v => v || null) })),
      { name: "keys", label: "acquisitions of the busiest keys", log: false, integer: true, format: count, height: 170 });
    rows($("keys"), metrics.keys, (k, i) => `<tr data-metrics-key="${esc(k.key)}"><td class="mono"><span class="swatch s${i % 6}"></span>${esc(k.key)}</td><td>${esc(k.kind)}</td>
        <td class="num">${k.acquisitions}</td><td class="num">${k.contentions}</td><td class="num">${k.lost}</td><td class="num">${ms(k.p50)}</td><td class="num">${ms(k.p99)}</td></tr>`,
      "no acquisition in this window yet", 7);
  }

  // ---------------------------------------------------------------- tables

  function render(s) {
    $("instance").textContent = "· " + (s.instance.name ?? s.instance.process);
    $("updated").textContent = "Updated " + clock(s.now) + ".";
    $("refresh").textContent = ms(refreshMs);
    const health = s.mode.health;
    $("mode").innerHTML = `${esc(s.mode.engine)} · <span class="${cls(health === "Normal", health === "Degraded")}">${esc(health)}</span>`;
    $("mode-detail").textContent = s.mode.reason ?? "since " + clock(s.mode.since);
    const zk = s.zooKeeper;
    $("session").innerHTML = zk.configured ? `<span class="${cls(zk.state === "Connected", zk.state === "Suspended" || zk.state === "Connecting")}">${esc(zk.state)}</span>` : `<span class="muted">not configured</span>`;
    $("session-detail").textContent = [zk.sessionId, zk.server, zk.sessionTimeoutMs ? ms(zk.sessionTimeoutMs) + " timeout" : "", zk.root].filter(Boolean).join(" · ");
    $("redis").innerHTML = s.redis.configured ? (s.redis.connected ? `<span class="ok">Connected</span>` : `<span class="warn">Not connected</span>`) : `<span class="muted">not configured</span>`;
    $("redis-detail").textContent = s.redis.configured ? "prefix " + s.redis.prefix : "";
    const t = s.metrics.totals;
    $("window").textContent = Math.round(s.metrics.points.length * s.metrics.bucketSeconds / 60) + " min";
    $("totals").textContent = `${t.acquisitions} acquired · p99 ${ms(t.p99)}`;
    $("totals-detail").innerHTML = `${t.contentions} contentions · <span class="${t.lost ? "bad" : ""}">${t.lost} lost</span> · ${t.unavailable} refused`;
    renderCharts(s.metrics);

    const err = part => s.errors[part] ? "cannot read: " + esc(s.errors[part]) : null;
    rows($("locks"), s.locks, l => `<tr data-key="${esc(l.key)}">
        <td class="mono">${esc(l.key)}</td><td>${holder(l.holder)}</td><td class="mono fencing-token">${esc(token(l.holder.fencingToken))}</td>
        <td>${ms(l.holder.heldForMs)}</td><td class="num">${l.waiters}</td><td class="muted">${esc(l.source)}</td></tr>`,
      err("locks") ?? "no lock is held", 6);
    rows($("semaphores"), s.semaphores, x => `<tr data-key="${esc(x.key)}">
        <td class="mono">${esc(x.key)}</td><td class="permits">${x.inUse} / ${x.maxCount}</td><td>${holderList(x.holders)}</td>
        <td class="num">${x.waiters}</td><td class="muted">${esc(x.source)}</td></tr>`,
      err("semaphores") ?? "no semaphore is in use", 5);
    rows($("rwlocks"), s.readerWriterLocks, x => `<tr data-key="${esc(x.key)}">
        <td class="mono">${esc(x.key)}</td><td>${x.writer ? "writer" : x.readers.length + (x.readers.length === 1 ? " reader" : " readers")}</td>
        <td>${holderList(x.writer ? [x.writer] : x.readers)}</td><td class="num">${x.waiters}</td><td class="muted">${esc(x.source)}</td></tr>`,
      err("readerWriterLocks") ?? "no reader-writer lock is in use", 5);
    rows($("elections"), s.elections, e => `<tr data-election="${esc(e.name)}">
        <td class="mono">${esc(e.name)}</td>
        <td class="leader">${e.leader ? `${esc(e.leader.instance ?? e.leader.instanceId)}${e.local?.isLeader ? " (this)" : ""} <span class="muted mono">${esc(e.leader.instanceId)}</span>` : `<span class="bad">nobody leads</span>`}</td>
        <td>${e.leader ? clock(e.leader.since) : ""}</td><td class="mono fencing-token">${esc(e.leader ? token(e.leader.fencingToken) : "")}</td>
        <td class="num">${e.candidates}</td>
        <td>${e.local ? `<span class="${cls(["Leader", "Follower", "NotParticipating"].includes(e.local.state), false)}">${esc(e.local.state)}</span>` : `<span class="muted">not registered here</span>`}</td></tr>`,
      err("elections") ?? "no election", 6);
    $("long-waits-section").hidden = !s.longWaits.tracked;
    $("long-waits-threshold").textContent = s.longWaits.thresholdMs == null ? "" : `(this instance, over ${ms(s.longWaits.thresholdMs)})`;
    rows($("long-waits"), s.longWaits.items, w => `<tr><td class="mono">${esc(w.key)}</td><td>${esc(w.kind)}</td><td class="num">${ms(w.waitingForMs)}</td><td class="num">${w.timeoutMs == null ? "infinite" : ms(w.timeoutMs)}</td><td class="mono">${esc(w.heldByWaiter.join(", "))}</td><td>${esc(w.holder ?? "unknown")}</td></tr>`, "no long wait", 6);
    rows($("instances"), s.instances, i => `<tr data-instance="${esc(i.instanceId)}">
        <td class="mono">${esc(i.service)}</td><td>${esc(i.name)}${i.process === s.instance.process ? " (this)" : ""} <span class="muted mono">${esc(i.instanceId)}</span></td>
        <td class="mono">${i.endpoints.map(esc).join("<br>")}</td><td>${esc(i.status)}</td><td>${esc(i.version ?? "")}</td><td>${clock(i.registeredAt)}</td></tr>`,
      err("instances") ?? "no registered instance", 6);
    rows($("configuration"), s.configuration, c => `<tr>
        <td class="mono">${esc(c.path)}</td><td><span class="${cls(c.state === "Live" && !c.malformedNodes, c.state === "Cached" || c.malformedNodes)}">${esc(c.state)}</span>${c.problem ? ` <span class="muted small">${esc(c.problem)}</span>` : ""}</td>
        <td class="mono">${c.version}</td>
        <td>${c.recentChanges.length ? c.recentChanges.map(x => `<div>${clock(x.at)} <span class="mono">${x.keys.map(esc).join(", ")}</span></div>`).join("") : `<span class="muted">none since this instance started</span>`}</td></tr>`,
      "this app has no ZooKeeper configuration source", 4);
  }

  async function refresh() {
    try {
      const response = await fetch(base + "/api/snapshot", { cache: "no-store", credentials: "same-origin" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      render(await response.json());
      $("error").textContent = "";
    } catch (e) {
      $("error").textContent = "refresh failed: " + e.message;
    } finally {
      setTimeout(refresh, refreshMs);
    }
  }

  refresh();
})();
