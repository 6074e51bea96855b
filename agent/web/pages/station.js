// Station screen: renders the snapshot the agent pushes over Server-Sent
// Events; codes and buttons go back as POSTs through the same path as
// `floorlinkctl scan`. No assets from outside: the floor has no internet.
"use strict";
(function () {
  const stationId = document.body.dataset.station;
  const $ = (id) => document.getElementById(id);
  // For the browser tests and for whoever debugs a screen: what arrived when.
  const trace = (window.__floorlink = { snapshots: 0, received: [], last: null });

  // --- sound: generated beeps, no audio files ---------------------------------
  let audio = null;
  function enableSound() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      $("sound").classList.add("hidden");
    } catch (e) { /* no audio device: the colours still tell */ }
  }
  document.addEventListener("pointerdown", enableSound);
  document.addEventListener("keydown", enableSound);
  $("sound").addEventListener("click", enableSound);
  function tone(freq, start, length, type) {
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.type = type;
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.25, audio.currentTime + start);
    gain.gain.setValueAtTime(0, audio.currentTime + start + length);
    osc.connect(gain).connect(audio.destination);
    osc.start(audio.currentTime + start);
    osc.stop(audio.currentTime + start + length + 0.02);
  }
  function beep(good) {
    trace.lastBeep = good ? "good" : "bad";
    if (!audio || audio.state !== "running") return;
    if (good) {
      tone(1760, 0, 0.09, "sine");  // one short high pip
    } else {
      tone(220, 0, 0.22, "square");  // a low buzz, twice: unmistakable
      tone(220, 0.3, 0.22, "square");
    }
  }

  // --- rendering -----------------------------------------------------------
  const text = (id, value) => { $(id).textContent = value == null ? "" : String(value); };
  const show = (id, visible) => $(id).classList.toggle("hidden", !visible);
  function pill(id, label, cls) {
    const el = $(id);
    el.textContent = label;
    el.className = "pill " + (cls || "");
  }
  function age(ms) {
    if (!ms) return "";
    const s = Math.round(ms / 1000);
    return s < 120 ? s + " s" : Math.round(s / 60) + " min";
  }

  const printerHelp = (p) => {
    const hs = p.host_status || {};
    const todo = [];
    if (hs.paper_out) todo.push("Load a new roll of labels.");
    if (hs.ribbon_out) todo.push("Put in a new ribbon.");
    if (hs.head_open) todo.push("Close the print head.");
    if (hs.paused) todo.push("Press PAUSE on the printer to resume.");
    if (hs.buffer_full) todo.push("Wait: the printer's buffer is full.");
    if (!todo.length && p.state === "offline") todo.push("Check the printer's power and cable.");
    if (!todo.length && p.state !== "ok") todo.push("Check the printer; call a technician if it stays red.");
    return todo.join(" ");
  };

  let previous = null;
  function render(snap) {
    const st = snap.station || {};
    const task = st.task;
    const agent = snap.agent || {};
    text("kind", st.kind);
    pill("online", agent.online ? "ONLINE" : "OFFLINE", agent.online ? "good" : "bad");
    pill("backlog", agent.backlog > 0 ? agent.backlog + " waiting to send" + (agent.oldest_unacked_ms ? " (" + age(agent.oldest_unacked_ms) + ")" : "") : "all sent",
      agent.backlog > 0 && !agent.online ? "warn" : "");

    text("prompt", st.prompt || "");
    // Cancellations and a database that refuses work are the loud notices.
    const stop = st.message_is_error && /^STOP/.test(st.message || "");
    const warnings = (agent.warnings || []).join(" ");
    show("notice", stop || warnings);
    text("notice", stop ? st.message : warnings);

    show("task", !!task);
    if (task) {
      // A ship task names its dock door (tasks.door), the others a bin.
      text("bin-label", task.door ? "Door" : "Bin");
      text("bin", task.door || task.bin || "–");
      text("item", task.sku || task.gtin || "–");
      text("description", task.description || "");
      text("order", task.order_id || "");
      const qty = task.qty || 0, done = task.qty_done || 0;
      text("qty", qty ? done + " / " + qty : "–");
      $("qty-bar").style.width = qty ? Math.min(100, (100 * done) / qty) + "%" : "0";
    }
    show("message", !!st.message && !stop);
    text("message", st.message);
    $("message").className = "message " + (st.message_is_error ? "error" : "ok") + (st.message && !stop ? "" : " hidden");

    const scan = (st.last_scans || [])[0];
    if (scan) {
      $("last-scan").textContent = scan.code + (scan.accepted ? "  ✔ accepted" : "  ✘ refused");
      $("last-scan").className = "mid " + (scan.accepted ? "accepted" : "rejected");
      text("last-reason", scan.accepted ? "" : scan.message + " (" + scan.reason + ")");
    } else {
      text("last-scan", "none yet");
      text("last-reason", "");
    }

    // Live weight against the tolerance band.
    const scale = snap.scale;
    show("weight-card", !!scale);
    if (scale) {
      text("scale-state", scale.state === "ok" ? "" : "· " + scale.state + (scale.detail ? ": " + scale.detail : ""));
      const r = scale.reading;
      text("weight", r && r.grams != null ? r.grams + " g" : "–");
      text("stability", r ? (r.status === "stable" ? "STABLE" : r.status === "motion" ? "moving…" : r.status) : "");
      const expected = task && task.expected_weight_g, tol = task && task.tolerance_g;
      if (expected != null && tol != null) {
        const lo = expected - tol, hi = expected + tol;
        const span = Math.max(hi * 1.5, 1);
        $("band-ok").style.left = (100 * lo) / span + "%";
        $("band-ok").style.width = (100 * (hi - lo)) / span + "%";
        const g = r && r.grams != null ? r.grams : 0;
        $("band-mark").style.left = Math.min(100, Math.max(0, (100 * g) / span)) + "%";
        text("band-text", "expected " + expected + " ± " + tol + " g" +
          (st.weight_g != null ? " · recorded " + st.weight_g + " g " + (st.within_tolerance ? "(within)" : "(OUT of tolerance)") : ""));
      } else {
        text("band-text", "");
      }
    }

    const printer = snap.printer;
    show("print-card", !!printer);
    if (printer) {
      text("printer-state", "· " + printer.state);
      const p = st.print;
      text("print-status", p ? "Label " + p.state + (p.detail ? ": " + p.detail : "") : printer.state === "ok" ? "Ready" : printer.detail || printer.state);
      text("print-help", printerHelp(printer));
    }

    for (const b of document.querySelectorAll(".action")) {
      b.classList.toggle("hidden", b.dataset.kinds !== st.kind);
    }

    // Beeps: a new scan, or a new error message (cancellation).
    if (previous) {
      const prevScan = (previous.last_scans || [])[0];
      const isNew = scan && (!prevScan || scan.at_ms !== prevScan.at_ms || scan.code !== prevScan.code);
      if (isNew) beep(scan.accepted);
      else if (st.message_is_error && st.message !== previous.message) beep(false);
    }
    previous = st;
  }

  // --- live updates --------------------------------------------------------
  function connect() {
    const es = new EventSource("/events/station/" + encodeURIComponent(stationId));
    es.addEventListener("open", () => pill("connection", "live", "good"));
    es.addEventListener("snapshot", (e) => {
      const snap = JSON.parse(e.data);
      trace.snapshots++;
      trace.last = snap;
      const s = snap.station || {};
      trace.received.push({ at: Date.now(), t: performance.now(), qty_done: s.task ? s.task.qty_done : null, scan: (s.last_scans || [])[0] || null });
      if (trace.received.length > 500) trace.received.shift();
      render(snap);
    });
    es.addEventListener("problem", (e) => pill("connection", "agent busy: " + JSON.parse(e.data).error, "warn"));
    es.addEventListener("error", () => pill("connection", "reconnecting…", "bad"));
  }

  // --- input: typed codes and buttons --------------------------------------
  async function post(path, body) {
    const res = await fetch("/api/station/" + encodeURIComponent(stationId) + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) {
      let why = res.status + "";
      try { why = (await res.json()).error || why; } catch (e) { /* not JSON */ }
      throw new Error(why);
    }
    return res.json();
  }
  function localError(message) {
    $("message").className = "message error";
    text("message", message);
    beep(false);
  }
  $("code-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const code = $("code").value.trim();
    if (!code) return;
    try {
      await post("/code", { code });
      $("code").value = "";
    } catch (err) {
      localError("Not sent: " + err.message);
    }
    $("code").focus({ preventScroll: true });
  });

  const questions = {
    short: "End this pick as SHORT with what was picked so far?",
    reweigh: "Weigh the box again from the next reading?",
    reprint: "Print the label again?",
    override: "Supervisor: accept this weight? Enter your supervisor id.",
  };
  function ask(action) {
    return new Promise((resolve) => {
      text("confirm-text", questions[action]);
      const needsId = action === "override";
      show("confirm-input", needsId);
      $("confirm-input").value = "";
      show("confirm", true);
      (needsId ? $("confirm-input") : $("confirm-yes")).focus();
      const done = (yes) => {
        show("confirm", false);
        $("confirm-yes").onclick = $("confirm-no").onclick = null;
        resolve(yes ? { supervisor: $("confirm-input").value.trim() } : null);
      };
      $("confirm-yes").onclick = () => done(true);
      $("confirm-no").onclick = () => done(false);
    });
  }
  for (const b of document.querySelectorAll(".action")) {
    b.addEventListener("click", async () => {
      const action = b.dataset.action;
      const answer = await ask(action);
      if (!answer) return;
      if (action === "override" && !answer.supervisor) return localError("An override needs the supervisor's id.");
      try {
        await post("/action", Object.assign({ action }, answer));
      } catch (err) {
        localError("Not done: " + err.message);
      }
    });
  }

  connect();
  // Ready for a typed code, without scrolling the task out of view.
  $("code").focus({ preventScroll: true });
})();
