// What the node tests share: `sandpool serve` started on a free loopback
// port with a configuration, ready when its /healthz answers, and stopped.
// Node's own modules only, so that every test package can import it.
//
//   env: SANDPOOL_BIN (./sandpool), SANDPOOL_STATE_DIR
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = process.env.SANDPOOL_BIN || "./sandpool";
const WAIT = 60000;

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

// `sandpool serve` with CONFIG (its configuration file in a new folder named
// after PREFIX): {proc, port, url}, once its /healthz answers 200.
export async function startServer(config, prefix = "sandpool-node-") {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify(config));
  const args = ["serve", "--config", file, "--listen", `127.0.0.1:${port}`];
  if (process.env.SANDPOOL_STATE_DIR) args.push("--state-dir", process.env.SANDPOOL_STATE_DIR);
  const proc = spawn(BIN, args, { stdio: ["ignore", "inherit", "inherit"] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + WAIT;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`sandpool serve exited ${proc.exitCode}`);
    try {
      const r = await fetch(url + "/healthz");
      if (r.ok) return { proc, port, url };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill("SIGKILL");
  throw new Error("sandpool serve did not start");
}

// SIGTERM, and its exit code once it has exited.
export function stopServer(proc) {
  const exited = new Promise((resolve) => proc.on("exit", (code) => resolve(code)));
  proc.kill("SIGTERM");
  return exited;
}

// Run TESTS ([{name, fn}]) one after the other against the server START
// returns ({proc, ...}, from startServer): a line per test, ok or FAIL, then
// the counts; the server is stopped and the process exits 1 on any failure.
export async function runTests(tests, start) {
  let server = null;
  let passed = 0;
  let failed = 0;
  try {
    server = await start();
    for (const t of tests) {
      try {
        await t.fn();
        passed++;
        console.log(`ok: ${t.name}`);
      } catch (e) {
        failed++;
        console.log(`FAIL: ${t.name}: ${e.message}`);
      }
    }
  } catch (e) {
    console.log(`FAIL: ${e.stack}`);
    if (server) server.proc.kill("SIGKILL");
    process.exit(1);
  }
  await stopServer(server.proc);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
