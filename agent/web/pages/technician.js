// Technician page: agent, broker, outbox, devices with their last raw bytes,
// printers' ~HS status, print jobs and the latest log lines, live over SSE.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const trace = (window.__floorlink = { snapshots: 0, last: null });
  const text = (id, value) => { $(id).textContent = value == null ? "" : String(value); };
  function pill(id, label, cls) {
    const el = $(id);
    el.textContent = label;
    el.className = "pill " + (cls || "");
  }
  function duration(s) {
    s = Math.max(0, Math.round(s));
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (s % 60) + "s";
  }
  const time = (ms) => (ms ? new Date(ms).toLocaleTimeString() : "");
  function cell(tr, value, cls) {
    const td = document.createElement("td");
    td.textContent = value == null ? "" : String(value);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function rows(tableId, items, fill) {
    const body = $(tableId).querySelector("tbody");
    body.replaceChildren();
    for (const item of items) {
      const tr = document.createElement("tr");
      fill(tr, item);
      body.appendChild(tr);
    }
  }

  let startedAt = 0;
  function tick() {
    if (startedAt) text("uptime", "up " + duration((Date.now() - startedAt) / 1000));
  }
  setInterval(tick, 1000);

  function render(snap) {
    const s = snap.status || {};
    text("version", "v" + (s.agent_version || "?"));
    text("site", (s.site || "") + "/" + (s.agent || ""));
    startedAt = s.started_at || 0;
    tick();
    const warnings = s.warnings || [];
    $("warnings").classList.toggle("hidden", warnings.length === 0);
    text("warnings", warnings.join(" · "));

    const b = s.broker;
    if (b) {
      $("broker").className = "mid " + (b.connected ? "state-ok" : "state-offline");
      text("broker", (b.connected ? "connected" : "DISCONNECTED") + " · " + b.url);
      text("broker-detail", "client " + b.client_id + " · session " + b.session + " · MQTT " + (b.protocol || "?") +
        " · reconnects " + b.reconnects + (b.connected ? "" : " · next try in " + Math.round(b.next_retry_in_ms / 1000) + " s") +
        (b.last_error ? " · last error: " + b.last_error : ""));
    } else {
      text("broker", "not configured");
    }
    const o = s.outbox;
    if (o) {
      text("outbox", o.depth + " unacknowledged");
      text("outbox-detail", "oldest " + Math.round((o.oldest_unacked_ms || 0) / 1000) + " s · acked through " +
        o.acked_through + " of " + o.last_seq);
    }
    const db = s.database || {};
    $("database").className = "mid state-" + db.state;
    text("database", db.state);
    text("database-detail", db.detail);

    const list = $("stations");
    list.replaceChildren();
    for (const st of s.stations || []) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = "/station/" + encodeURIComponent(st.id);
      a.textContent = st.id + " (" + st.kind + ") · " + st.step + (st.task_id ? " · " + st.task_id : "");
      li.appendChild(a);
      list.appendChild(li);
    }

    const devices = snap.devices || [];
    rows("devices", devices, (tr, d) => {
      tr.dataset.device = d.id;
      cell(tr, d.id);
      cell(tr, d.kind);
      cell(tr, d.state, "state state-" + d.state);
      cell(tr, d.detail || d.last_error || "", "detail");
      cell(tr, time(d.since_ms));
      const raw = (d.raw || []).slice(-3).map((c) => (c.direction === "in" ? "← " : "→ ") + c.hex + "  “" + c.text + "”");
      cell(tr, raw.join("\n") || "–", "raw");
    });
    rows("printers", devices.filter((d) => d.kind === "printer"), (tr, d) => {
      tr.dataset.device = d.id;
      cell(tr, d.id);
      cell(tr, d.state, "state-" + d.state);
      const hs = d.host_status;
      const flags = hs ? ["paper_out", "ribbon_out", "head_open", "paused", "buffer_full"].filter((k) => hs[k]) : [];
      cell(tr, hs ? (flags.length ? flags.join(", ").replace(/_/g, " ") : "ready") + " · " + hs.formats_in_buffer + " in buffer" : "no ~HS answer yet");
      cell(tr, d.transport || "");
    });
    rows("jobs", (snap.print_jobs || []).slice().reverse(), (tr, j) => {
      cell(tr, j.job_id);
      cell(tr, j.task_id);
      cell(tr, j.printer);
      cell(tr, j.state, "state-" + (j.state === "confirmed" ? "ok" : j.state === "failed" || j.state === "uncertain" ? "fault" : ""));
      cell(tr, j.detail);
    });
    rows("log", (snap.logs || []).slice().reverse(), (tr, l) => {
      cell(tr, time(l.time_ms));
      cell(tr, l.level, "lvl-" + l.level);
      cell(tr, l.module);
      cell(tr, l.text);
    });
  }

  const es = new EventSource("/events/technician");
  es.addEventListener("open", () => pill("connection", "live", "good"));
  es.addEventListener("snapshot", (e) => {
    const snap = JSON.parse(e.data);
    trace.snapshots++;
    trace.last = snap;
    render(snap);
  });
  es.addEventListener("problem", (e) => pill("connection", "agent busy: " + JSON.parse(e.data).error, "warn"));
  es.addEventListener("error", () => pill("connection", "reconnecting…", "bad"));
})();
