// Browser tests: a whole floor on loopback (mosquitto, the agent binary with
// [http] on, floorlink-device-sim's scanner and scale, the fake ZPL printer)
// and the station screen and technician page in headless Chromium
// (Debian's /usr/bin/chromium through playwright-core). Every check reads
// real DOM text. Prints "browser: N passed, N failed"; exits non-zero on a
// failure. FLOORLINK_UPDATE_SCREENSHOTS=1 also writes docs/*.png.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort, mosquittoArgv, sleep, startProcess, waitFor } from "./procs.mjs";

const bin = process.env.FLOORLINK_BINARY_DIR;
const src = process.env.FLOORLINK_SOURCE_DIR;
const require = createRequire(path.join(process.env.FLOORLINK_NODE_MODULES, "/"));
const { chromium } = require("playwright-core");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "floorlink-browser-"));
const shotsDir = path.join(bin, "tests/web/screenshots");
fs.mkdirSync(shotsDir, { recursive: true });
const GTIN = "09506000134352";
const SSCC = "009506000134352183";
const started = Date.now();
const procs = {};
let passed = 0, failed = 0;

function start(name, argv, env = {}) {
  procs[name] = startProcess(argv, env);
  return procs[name];
}
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
    throw e;
  }
}
function expect(cond, message) {
  if (!cond) throw new Error(message);
}
function ctl(...args) {
  return execFileSync(path.join(bin, "tools/floorlinkctl/floorlinkctl"), ["--socket", path.join(dir, "ctl.sock"), ...args],
    { encoding: "utf8" });
}
// floorlink-device-sim's control port: one line in, one line out.
function simCommand(line) {
  return new Promise((resolve, reject) => {
    const c = net.connect(ports.control, "127.0.0.1", () => c.write(line + "\n"));
    let buf = "";
    c.on("data", (d) => {
      buf += d;
      if (buf.includes("\n")) {
        c.end();
        resolve(buf.trim());
      }
    });
    c.on("error", reject);
  });
}
// Text of an element, "" when missing.
const textOf = (page, sel) => page.locator(sel).first().textContent({ timeout: 1000 }).catch(() => "");
async function waitText(page, sel, pred, what, ms = 10000) {
  let last = "";
  try {
    return await waitFor(what, async () => {
      last = (await textOf(page, sel)) || "";
      return pred(last) ? last : null;
    }, ms);
  } catch (e) {
    throw new Error(`${what}: ${sel} shows "${last}"`);
  }
}

let ports = {};
let browser;
let httpBase;
const screenshot = async (page, name) => {
  const file = path.join(shotsDir, name);
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.FLOORLINK_UPDATE_SCREENSHOTS === "1") fs.copyFileSync(file, path.join(src, "docs", name));
};

async function main() {
  // --- the floor -----------------------------------------------------------
  const brokerPort = await freePort();
  start("broker", mosquittoArgv(dir, brokerPort));
  start("sim", [path.join(bin, "tools/device_sim/floorlink-device-sim"), "--ports-file", path.join(dir, "ports")]);
  await waitFor("device sim ports", () => fs.existsSync(path.join(dir, "ports")));
  for (const item of fs.readFileSync(path.join(dir, "ports"), "utf8").trim().split(/\s+/)) {
    const [k, v] = item.split("=");
    ports[k] = Number(v);
  }
  const printerPort = await freePort();
  start("printer", [path.join(bin, "tools/fake_zpl_printer/floorlink-fake-printer"), "--port", String(printerPort),
    "--journal-dir", path.join(dir, "labels")]);
  await waitFor("fake printer", () => procs.printer.out.includes("fake ZPL printer on"));
  const httpPort = await freePort();
  httpBase = `http://127.0.0.1:${httpPort}`;
  fs.writeFileSync(path.join(dir, "floorlink.toml"), `
[agent]
site = "dc1"
id = "pc7"
data_dir = "${dir}/data"
[mqtt]
url = "tcp://127.0.0.1:${brokerPort}"
keepalive_s = 2
backoff_min_ms = 100
backoff_max_ms = 1000
[control]
socket = "${dir}/ctl.sock"
[http]
enabled = true
port = ${httpPort}
[labels]
templates_dir = "${src}/printers/templates"
gs1_company_prefix = "0950600"
[log]
target = "stderr"
[[devices]]
id = "scanner1"
kind = "scanner"
address = "tcp://127.0.0.1:${ports.scanner}"
[devices.options]
suffix = "cr"
[[devices]]
id = "scale1"
kind = "scale"
protocol = "mt-sics"
address = "tcp://127.0.0.1:${ports.scale}"
[devices.options]
stable_readings = 3
poll_interval_ms = 50
timeout_ms = 3000
[[devices]]
id = "printer1"
kind = "printer"
address = "tcp://127.0.0.1:${printerPort}"
[[stations]]
id = "pick1"
kind = "pick"
scanner = "scanner1"
[[stations]]
id = "pack1"
kind = "pack"
scale = "scale1"
printer = "printer1"
[[stations]]
id = "ship1"
kind = "ship"
`);
  start("agent", [path.join(bin, "tools/floorlink/floorlink"), "--config", path.join(dir, "floorlink.toml")]);
  await waitFor("agent running", () => procs.agent.out.includes("running as"), 30000);
  await waitFor("broker connected", async () => {
    const r = await fetch(httpBase + "/api/technician");
    return r.ok && (await r.json()).status.broker.connected;
  }, 20000);
  await waitFor("sim scanner connected", async () => (await simCommand("status")).includes("scanner_clients=1"));
  const wave = {
    v: 1, cmd_id: "c-1", type: "wave.assign", sent_at: 1763780000000, wave_id: "W-1", revision: 1,
    tasks: [
      { task_id: "T-1", kind: "pick", order_id: "O-T-1", station: "pick1", bin: "A-01-02", sku: "SKU-MUG-330",
        gtin: GTIN, description: "Blue mug 330 ml", qty: 24 },
      { task_id: "P-1", kind: "pack", order_id: "O-P-1", station: "pack1", lines: [{ sku: "SKU-1", qty: 1 }],
        expected_weight_g: 1200, tolerance_g: 50, sscc: SSCC,
        label: { template: "shipping", fields: { customer: "Jörg Müller", street: "Hauptstr. 1", postal_code: "10115", city: "Berlin" } } },
    ],
  };
  execFileSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(brokerPort), "-q", "1", "-t", "wh/v1/dc1/pc7/cmd",
    "-m", JSON.stringify(wave)]);
  await waitFor("wave accepted", () => JSON.parse(ctl("station", "pick1", "--json")).step === "scan_bin");

  // --- station screen ------------------------------------------------------
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"] });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const pick = await ctx.newPage();
  const consoleErrors = [];
  pick.on("pageerror", (e) => consoleErrors.push(e.message));

  await check("station page shows the task", async () => {
    await pick.goto(httpBase + "/station/pick1");
    await waitText(pick, "#bin", (t) => t === "A-01-02", "bin");
    await waitText(pick, "#qty", (t) => t === "0 / 24", "quantity");
    expect((await textOf(pick, "#description")) === "Blue mug 330 ml", "description");
    expect((await textOf(pick, "#item")) === "SKU-MUG-330", "item");
    expect(/bin/i.test(await textOf(pick, "#prompt")), "prompt asks for the bin");
    expect((await textOf(pick, "#online")) === "ONLINE", "online");
  });

  await check("a rejected scan (real scanner bytes) shows its reason in plain words", async () => {
    expect((await simCommand("scan A-09-09")) === "ok", "sim scan");
    await waitText(pick, "#last-reason", (t) => t.includes("wrong_bin"), "rejection reason");
    const message = await textOf(pick, "#message");
    expect(message.length > 10, "plain-words message: " + message);
    expect((await pick.getAttribute("#message", "class")).includes("error"), "message shown as an error");
    expect((await textOf(pick, "#last-scan")).includes("A-09-09"), "last scan code");
    expect((await pick.evaluate(() => window.__floorlink.lastBeep)) === "bad", "bad-read beep");
  });

  await check("an injected scan (floorlinkctl scan) moves the page on", async () => {
    ctl("scan", "pick1", "A-01-02");
    await waitText(pick, "#last-scan", (t) => t.includes("A-01-02") && t.includes("accepted"), "accepted bin");
    await waitText(pick, "#prompt", (t) => t.startsWith("Pick 24 ×"), "prompt says what to pick");
    expect((await pick.evaluate(() => window.__floorlink.lastBeep)) === "good", "good-read beep");
  });

  await check("keyboard entry of a code counts an item", async () => {
    await pick.fill("#code", GTIN);
    await pick.press("#code", "Enter");
    await waitText(pick, "#qty", (t) => t === "1 / 24", "quantity after keyboard entry");
    expect((await pick.inputValue("#code")) === "", "input cleared");
    const src = await pick.evaluate(() => window.__floorlink.last.station.last_scans[0].source);
    expect(src === "keyboard", "recorded as keyboard, got " + src);
  });

  const latencies = [];
  await check("SSE: 20 committed scans each reach the page (latency measured)", async () => {
    for (let n = 2; n <= 21; n++) {
      const t0 = Date.now();
      const r = await fetch(`${httpBase}/api/station/pick1/code`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code: GTIN }),
      });
      expect(r.ok, "POST " + r.status);
      const committed = Date.now();
      const arrived = await pick.waitForFunction((want) => {
        const hit = window.__floorlink.received.find((x) => x.qty_done === want);
        return hit ? hit.at : null;
      }, n, { timeout: 5000 });
      const at = await arrived.jsonValue();
      latencies.push({ fromScan: at - t0, fromCommit: Math.max(0, at - committed) });
    }
    await waitText(pick, "#qty", (t) => t === "21 / 24", "quantity");
  });

  await check("a wrong item is refused with its reason; screenshot", async () => {
    ctl("scan", "pick1", "4006381333931");
    await waitText(pick, "#last-reason", (t) => t.includes("wrong_item"), "wrong item reason");
    await screenshot(pick, "station-page.png");
  });

  await check("short pick button asks first, then ends the task", async () => {
    await pick.click('button[data-action="short"]');
    await pick.waitForSelector("#confirm:not(.hidden)", { timeout: 3000 });
    await pick.click("#confirm-no");
    await sleep(300);
    expect((await textOf(pick, "#qty")) === "21 / 24", "No changes nothing");
    await pick.click('button[data-action="short"]');
    await pick.click("#confirm-yes");
    await waitFor("task gone", async () => (await pick.getAttribute("#task", "class")).includes("hidden"));
    const events = JSON.parse(ctl("tasks", "--wave", "W-1", "--json"));
    const t1 = (events.tasks || events).find((t) => t.task_id === "T-1");
    expect(t1 && t1.state === "short", "task state short, got " + JSON.stringify(t1));
  });

  const pack = await ctx.newPage();
  pack.on("pageerror", (e) => consoleErrors.push(e.message));
  await check("pack screen: live weight, tolerance band, out of tolerance, re-weigh, label", async () => {
    await simCommand("weight 1500");
    await pack.goto(httpBase + "/station/pack1");
    await waitText(pack, "#weight", (t) => t === "1500 g", "live weight");
    await waitText(pack, "#stability", (t) => t === "STABLE", "stability");
    ctl("scan", "pack1", "O-P-1");
    await waitText(pack, "#message", (t) => t.includes("250 g over"), "out of tolerance message");
    expect((await textOf(pack, "#band-text")).includes("1200 ± 50"), "tolerance band");
    await simCommand("weight 1210");
    await waitText(pack, "#weight", (t) => t === "1210 g", "live weight follows the scale");
    await pack.click('button[data-action="reweigh"]');
    await pack.click("#confirm-yes");
    await waitFor("label printed", () => pack.evaluate(() => window.__floorlink.last.station.step === "scan_label"), 20000);
    await waitText(pack, "#print-status", (t) => /Label (sent|confirmed)/.test(t), "print status");
  });

  // --- technician page -----------------------------------------------------
  const tech = await ctx.newPage();
  tech.on("pageerror", (e) => consoleErrors.push(e.message));
  await check("technician page: version, broker, outbox, devices, printers, log, station links", async () => {
    await tech.goto(httpBase + "/");
    await waitText(tech, "#broker", (t) => t.startsWith("connected"), "broker");
    expect((await textOf(tech, "#version")).startsWith("v"), "version");
    await waitText(tech, 'tr[data-device="scanner1"] td.state', (t) => t === "ok", "scanner ok");
    await waitText(tech, '#printers tr[data-device="printer1"]', (t) => t.includes("ready"), "printer ~HS");
    await waitText(tech, 'tr[data-device="scale1"] td.raw', (t) => t.includes("53 49") || t.includes("SI") || t.includes("S S"), "scale raw bytes");
    expect((await tech.locator("#stations a").count()) === 3, "three station links");
    expect((await tech.locator("#log tbody tr").count()) > 5, "log lines");
    expect(/unacknowledged/.test(await textOf(tech, "#outbox")), "outbox");
  });

  await check("a device unplug shows on the technician page; screenshot", async () => {
    procs.sim.kill("SIGTERM");
    await procs.sim.exited;
    await waitText(tech, 'tr[data-device="scanner1"] td.state', (t) => t !== "ok" && t !== "", "scanner not ok", 15000);
    await waitText(tech, 'tr[data-device="scale1"] td.state', (t) => t !== "ok" && t !== "", "scale not ok", 15000);
    const detail = await textOf(tech, 'tr[data-device="scanner1"] td.detail');
    expect(detail.length > 0, "a reason is shown");
    await screenshot(tech, "technician-page.png");
  });

  await check("broker offline: pages keep working and say OFFLINE with the backlog", async () => {
    procs.broker.kill("SIGTERM");
    await procs.broker.exited;
    await waitText(pick, "#online", (t) => t === "OFFLINE", "offline pill", 15000);
    await waitText(tech, "#broker", (t) => t.startsWith("DISCONNECTED"), "broker disconnected");
    ctl("scan", "pick1", "X-1");  // still recorded, answered, shown
    await waitText(pick, "#last-scan", (t) => t.includes("X-1"), "scan shown while offline");
    await waitText(pick, "#backlog", (t) => /waiting to send/.test(t), "backlog size");
  });

  await check("no page errors in the browser console", async () => {
    expect(consoleErrors.length === 0, consoleErrors.join("; "));
  });

  await check("SIGTERM with pages open: the agent stops promptly", async () => {
    const t0 = Date.now();
    procs.agent.kill("SIGTERM");
    const exit = await Promise.race([procs.agent.exited, sleep(10000).then(() => null)]);
    expect(exit !== null, "agent still running 10 s after SIGTERM");
    expect(exit.code === 0, "exit " + JSON.stringify(exit));
    console.log(`     stopped in ${Date.now() - t0} ms`);
  });

  const q = (arr, p) => arr.slice().sort((a, b) => a - b)[Math.min(arr.length - 1, Math.floor(p * arr.length))];
  const fromScan = latencies.map((l) => l.fromScan), fromCommit = latencies.map((l) => l.fromCommit);
  const figures = {
    samples: latencies.length,
    sse_update_ms_p50: q(fromScan, 0.5),
    sse_update_ms_p99: q(fromScan, 0.99),
    commit_to_page_ms_p99: q(fromCommit, 0.99),
  };
  // Informational only: the figure itself is bench/web's (scripts/bench).
  console.log("sse latency (POST sent -> snapshot in the page):", JSON.stringify(figures));
  fs.writeFileSync(path.join(bin, "tests/web/browser-figures.json"), JSON.stringify(figures, null, 2) + "\n");
}

let code = 0;
try {
  await main();
} catch (e) {
  code = 1;
  if (failed === 0) {
    failed++;
    console.log("FAIL setup: " + e.message);
  }
  for (const [name, p] of Object.entries(procs)) {
    console.log(`--- ${name} output (tail) ---\n` + p.out.split("\n").slice(-40).join("\n"));
  }
} finally {
  if (browser) await browser.close().catch(() => {});
  for (const p of Object.values(procs)) {
    if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  }
  if (code === 0) fs.rmSync(dir, { recursive: true, force: true });
  else console.log("left for inspection: " + dir);
}
console.log(`browser tests took ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(code || (failed ? 1 : 0));
