// bench_web: sse_update_ms_p50/p99, from a step committed by the agent to the
// station screen in headless Chromium receiving the update (the real agent
// binary with [http] on and a loopback mosquitto). Each sample: the page
// POSTs a code to /api/station/pick1/code (answered after the durable commit)
// and we take the time its EventSource handler got the snapshot counting it.
// Baseline, same run, same browser, same method: a bare Node HTTP server that
// answers the POST by writing one SSE event to the page.
// Writes $FLOORLINK_BENCH_OUT/web.json.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { freePort, mosquittoArgv, startProcess, waitFor } from "../../tests/web/browser/procs.mjs";

const bin = process.env.FLOORLINK_BINARY_DIR;
const require = createRequire(path.join(process.env.FLOORLINK_NODE_MODULES, "/"));
const { chromium } = require("playwright-core");
const kSamples = 300;
const GTIN = "09506000134352";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "floorlink-bench-web-"));
const procs = [];
function start(argv) {
  const p = startProcess(argv);
  procs.push(p);
  return p;
}
const quantile = (arr, p) => arr.slice().sort((a, b) => a - b)[Math.min(arr.length - 1, Math.floor(p * arr.length))];

// The page itself posts `body` to `url` (same origin, as the station
// screen's keyboard entry does) kSamples times, and `want(n)` returns the
// performance.now() at which the page's EventSource handler received sample
// n: both ends on the page's own clock. Returns the latencies in ms.
async function measure(page, url, body, want) {
  const ms = [];
  for (let n = 1; n <= kSamples; n++) {
    const t0 = await page.evaluate(async ([u, b]) => {
      const start = performance.now();
      const r = await fetch(u, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(b) });
      if (!r.ok) throw new Error(`POST ${u}: ${r.status} ${await r.text()}`);
      return start;
    }, [url, body]);
    const handle = await page.waitForFunction(want, n, { timeout: 5000, polling: 1 });
    ms.push((await handle.jsonValue()) - t0);
  }
  return ms;
}

async function agentSamples(browser) {
  const brokerPort = await freePort(), httpPort = await freePort();
  start(mosquittoArgv(dir, brokerPort));
  fs.writeFileSync(path.join(dir, "floorlink.toml"), `
[agent]
site = "dc1"
id = "pc7"
data_dir = "${dir}/data"
[mqtt]
url = "tcp://127.0.0.1:${brokerPort}"
[control]
socket = "${dir}/ctl.sock"
[http]
enabled = true
port = ${httpPort}
[log]
target = "stderr"
level = "warn"
[[stations]]
id = "pick1"
kind = "pick"
`);
  const agent = start([path.join(bin, "tools/floorlink/floorlink"), "--config", path.join(dir, "floorlink.toml")]);
  const base = `http://127.0.0.1:${httpPort}`;
  try {
    await waitFor("agent and broker", async () => (await (await fetch(base + "/api/technician")).json()).status.broker.connected, 20000);
  } catch (e) {
    throw new Error(e.message + "\n" + agent.out);
  }
  const wave = {
    v: 1, cmd_id: "c-1", type: "wave.assign", sent_at: Date.now(), wave_id: "W-1", revision: 1,
    tasks: [{ task_id: "T-1", kind: "pick", order_id: "O-1", station: "pick1", bin: "A-01-02", sku: "SKU-MUG-330",
      gtin: GTIN, description: "Blue mug 330 ml", qty: 100000 }],
  };
  execFileSync("mosquitto_pub", ["-h", "127.0.0.1", "-p", String(brokerPort), "-q", "1", "-t", "wh/v1/dc1/pc7/cmd",
    "-m", JSON.stringify(wave)]);
  const post = (code) => fetch(base + "/api/station/pick1/code", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ code }) });
  const step = async () => (await (await fetch(base + "/api/station/pick1")).json()).station.step;
  await waitFor("wave applied", async () => (await step()) === "scan_bin");
  await post("A-01-02");
  if ((await step()) !== "scan_item") throw new Error("bin scan not accepted: step " + (await step()));
  const page = await browser.newPage();
  await page.goto(base + "/station/pick1");
  await page.waitForFunction(() => window.__floorlink.last && window.__floorlink.last.station.task);
  const samples = await measure(page, "/api/station/pick1/code", { code: GTIN }, (n) => {
    const hit = window.__floorlink.received.find((x) => x.qty_done === n);
    return hit ? hit.t : null;
  });
  await page.close();
  agent.kill("SIGTERM");
  return samples;
}

async function baselineSamples(browser) {
  const streams = new Set();
  let count = 0;
  const server = http.createServer((req, res) => {
    if (req.url === "/") {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end(`<!doctype html><body><script>
        window.__b = [];
        new EventSource("/events").addEventListener("snapshot", (e) =>
          window.__b.push({ t: performance.now(), n: JSON.parse(e.data).n }));
      </script></body>`);
    } else if (req.url === "/events") {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
      res.write(": open\n\n");
      streams.add(res);
      req.on("close", () => streams.delete(res));
    } else if (req.url !== "/post" || req.method !== "POST") {
      res.writeHead(404);
      res.end();  // e.g. the browser's /favicon.ico
    } else {
      req.resume();
      req.on("end", () => {
        count++;
        for (const s of streams) s.write(`event: snapshot\ndata: {"n":${count}}\n\n`);
        res.end("{}");
      });
    }
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await waitFor("baseline stream", async () => streams.size === 1);
  const samples = await measure(page, "/post", {}, (n) => {
    const hit = window.__b.find((x) => x.n === n);
    return hit ? hit.t : null;
  });
  await page.close();
  for (const s of streams) s.end();
  server.close();
  return samples;
}

let code = 0;
let browser;
try {
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  const base = await baselineSamples(browser);
  const ours = await agentSamples(browser);
  const figure = (name, p) => ({ name, value: quantile(ours, p), unit: "ms", baseline: quantile(base, p),
    ratio: quantile(ours, p) / quantile(base, p) });
  const figures = [figure("sse_update_ms_p50", 0.5), figure("sse_update_ms_p99", 0.99)];
  for (const f of figures) {
    console.log(`${f.name.padEnd(28)} ${f.value.toFixed(3).padStart(10)} ms   baseline bare SSE server ${f.baseline.toFixed(3).padStart(8)} ms   ratio ${f.ratio.toFixed(2)}`);
  }
  console.log(`${kSamples} samples each; goal: sse_update_ms_p99 under 200 ms`);
  fs.writeFileSync(path.join(process.env.FLOORLINK_BENCH_OUT || ".", "web.json"), JSON.stringify(figures, null, 2) + "\n");
} catch (e) {
  code = 1;
  console.error("bench_web: " + e.message);
} finally {
  if (browser) await browser.close().catch(() => {});
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
