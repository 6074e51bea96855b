// Helpers shared by the browser test (run.mjs) and bench/web: loopback
// ports, child processes whose output is kept for the failure report, and
// polling with a deadline.
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// A child whose stdout and stderr collect in `.out`; `.exited` resolves with
// {code, signal}. A binary that cannot start is reported in `.out`.
export function startProcess(argv, env = {}) {
  const p = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  p.out = "";
  p.stdout.on("data", (d) => (p.out += d));
  p.stderr.on("data", (d) => (p.out += d));
  p.on("error", (e) => (p.out += `cannot start ${argv[0]}: ${e.message}\n`));
  p.exited = new Promise((r) => p.on("exit", (code, signal) => r({ code, signal })));
  return p;
}

// A private mosquitto on 127.0.0.1:port: writes its config into `dir` and
// returns the command line to start it.
export function mosquittoArgv(dir, port) {
  const conf = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n`);
  return ["/usr/sbin/mosquitto", "-c", conf];
}

// Polls `pred` every 50 ms until it returns something truthy (returned) or
// `ms` pass (throws "timed out waiting for <what>").
export async function waitFor(what, pred, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const v = await pred();
      if (v) return v;
    } catch (e) { /* not yet */ }
    await sleep(50);
  }
  throw new Error("timed out waiting for " + what);
}
