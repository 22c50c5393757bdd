// The WebSocket API with a second client, independent of python3-websockets:
// the ws package. `sandpool serve` on loopback; a run with its output streamed
// and its result, pings answered by pongs (also while a job runs), a message
// sent in fragments, a big output read at once, and a client that stops
// reading for longer than ws_stall_timeout_s (whole frames, slow_reader, a
// close with 1008), and 2 000 clients at once hearing their jobs. Ends with
// "N passed, M failed".
//
//   node tests/ws-node/ws.test.mjs
//   env: SANDPOOL_BIN (./sandpool), SANDPOOL_STATE_DIR
import WebSocket from "ws";
import { startServer as startSandpool, stopServer } from "../node-lib/sandpool.mjs";

const WAIT = 60000;
const STALL_S = 4;

// `sandpool serve` with CONFIG: its process, its WebSocket URL and its HTTP
// one.
async function startServer(config) {
  const { proc, port, url } = await startSandpool(config, "sandpool-ws-");
  return { proc, ws: `ws://127.0.0.1:${port}/api/v1/ws`, http: url };
}

function assert(cond, what) {
  if (!cond) throw new Error(`assertion failed: ${what}`);
}

function timeout(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

// A connection whose events queue up until asked for; it fails on any
// error of ws (a frame it cannot parse among them).
function open(url, localAddress) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: 256 << 20, localAddress });
    const c = { ws, events: [], waiters: [], errors: [], closed: null };
    ws.on("message", (data) => {
      c.events.push(JSON.parse(data.toString()));
      c.waiters.splice(0).forEach((w) => w());
    });
    ws.on("error", (e) => {
      c.errors.push(e);
      c.waiters.splice(0).forEach((w) => w());
      reject(e);
    });
    ws.on("close", (code, reason) => {
      c.closed = { code, reason: reason.toString() };
      c.waiters.splice(0).forEach((w) => w());
    });
    ws.on("open", () => resolve(c));
  });
}

async function next(c) {
  while (c.events.length === 0) {
    if (c.errors.length) throw c.errors[0];
    if (c.closed) throw new Error(`closed: ${JSON.stringify(c.closed)}`);
    await new Promise((r) => c.waiters.push(r));
  }
  return c.events.shift();
}

async function until(c, type) {
  const seen = [];
  for (;;) {
    const ev = await next(c);
    seen.push(ev);
    if (ev.type === type) return seen;
  }
}

const flood = (mib) =>
  `import sys\nline = 'x' * 1023 + '\\n'\nfor _ in range(${mib} * 1024):\n    sys.stdout.write(line)\n`;

const results = [];
async function check(name, fn) {
  try {
    await timeout(fn(), 120000, name);
    results.push([name, true]);
    console.log(`ok - ${name}`);
  } catch (e) {
    results.push([name, false]);
    console.log(`not ok - ${name}\n#   ${String(e.stack || e).split("\n").join("\n#   ")}`);
  }
}

async function streamedRun(url) {
  const c = await open(url);
  c.ws.send(JSON.stringify({
    type: "run", ref: "s", language: "python",
    code: "import time\nfor i in range(3):\n    print(i, flush=True); time.sleep(0.2)\n",
  }));
  const seen = await until(c, "result");
  const types = seen.map((e) => e.type);
  assert(types[0] === "queued" && types[1] === "started", types.join(","));
  const out = seen.filter((e) => e.type === "stdout").map((e) => e.data).join("");
  assert(out === "0\n1\n2\n", JSON.stringify(out));
  assert(seen.every((e) => e.ref === "s"), "every event has the ref");
  assert(seen.at(-1).result.stdout === out, "the result has the output");
  c.ws.close(1000);
}

async function pings(url) {
  const c = await open(url);
  const pongs = [];
  c.ws.on("pong", (data) => pongs.push(data.toString()));
  c.ws.ping("one");
  c.ws.ping("");
  c.ws.ping("x".repeat(125));
  // and while a job runs and streams
  c.ws.send(JSON.stringify({
    type: "run", language: "python",
    code: "import time\nfor i in range(10):\n    print(i, flush=True); time.sleep(0.2)\n",
  }));
  let sent = 3;
  const timer = setInterval(() => { c.ws.ping(`during ${sent++}`); }, 100);
  await until(c, "result");
  clearInterval(timer);
  const want = sent;
  c.ws.ping("last");
  const deadline = Date.now() + 10000;
  while (pongs.length < want + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert(pongs.length === want + 1, `${pongs.length} pongs for ${want + 1} pings`);
  assert(pongs[0] === "one" && pongs[1] === "" && pongs[2] === "x".repeat(125), "payloads");
  assert(pongs.at(-1) === "last", "in order");
  c.ws.close(1000);
}

async function fragments(url) {
  const c = await open(url);
  const msg = JSON.stringify({ type: "run", ref: "frag", language: "bash", code: "echo fragmented" });
  const third = Math.floor(msg.length / 3);
  c.ws.send(msg.slice(0, third), { fin: false });
  c.ws.ping("between");
  c.ws.send(msg.slice(third, 2 * third), { fin: false });
  c.ws.send(msg.slice(2 * third), { fin: true });
  const seen = await until(c, "result");
  assert(seen.at(-1).result.stdout === "fragmented\n", JSON.stringify(seen.at(-1)));
  c.ws.close(1000);
}

async function bigOutput(url) {
  const c = await open(url);
  const mib = 24;
  c.ws.send(JSON.stringify({ type: "run", language: "python", code: flood(mib),
                             limits: { output_kb: 65536, wall_ms: 60000 } }));
  let streamed = 0;
  for (;;) {
    const ev = await next(c);
    if (ev.type === "stdout") streamed += ev.data.length;
    else if (ev.type === "result") {
      assert(ev.result.status === "ok", ev.result.status);
      assert(ev.result.stdout.length === mib << 20, "the result's stdout");
      break;
    } else assert(ev.type === "queued" || ev.type === "started", ev.type);
  }
  assert(streamed === mib << 20, `${streamed} bytes streamed`);
  c.ws.close(1000);
}

// Stops reading for longer than the stall timeout, less than twice it:
// whole frames, then slow_reader, then a close with 1008.
async function stalled(url) {
  const c = await open(url);
  c.ws.send(JSON.stringify({ type: "run", language: "python", code: flood(12),
                             limits: { output_kb: 65536, wall_ms: 60000 } }));
  await until(c, "started");
  c.ws._socket.pause();
  await new Promise((r) => setTimeout(r, (STALL_S + 2) * 1000));
  c.ws._socket.resume();
  const codes = [];
  let received = 0;
  try {
    for (;;) {
      const ev = await next(c);
      received++;
      if (ev.type === "error") codes.push(ev.code);
      assert(ev.type !== "result", "a result after the stall");
    }
  } catch (e) {
    if (c.errors.length) throw c.errors[0];
  }
  assert(JSON.stringify(codes) === '["slow_reader"]', JSON.stringify(codes));
  assert(c.closed && c.closed.code === 1008, JSON.stringify(c.closed));
  assert(received > 1, "what was sent before");
}

// 2 000 clients at once, 500 from each of four loopback addresses, on a
// server of the default configuration but its cells: each subscribes to its
// group's userId and to everyone's, hears its group's result and every line
// of a job of everyone's printing 200 lines one by one, while /api/v1/run
// answers.
const CLIENTS = 2000;
const GROUPS = 4;
const BROADCAST = "import time\nfor i in range(1, 201):\n    print('everyone', i, flush=True)\n    time.sleep(0.001)\n";

async function subscribe(c, userId) {
  c.ws.send(JSON.stringify({ type: "subscribe", userId }));
  const seen = await until(c, "subscribed");
  assert(seen.at(-1).userId === userId, JSON.stringify(seen.at(-1)));
}

async function hearBoth(c) {
  const out = {};
  while (Object.keys(out).length < 2) {
    const ev = await next(c);
    if (ev.type === "result") out[ev.result.stdout.startsWith("everyone") ? "all" : "group"] = ev.result.stdout;
  }
  return out;
}

async function post(http, path, body) {
  const r = await fetch(http + path, { method: "POST", body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

async function twoThousand() {
  const { proc, ws, http } = await startServer({ pool_total: 0, pool_sizes: { python: 1, bash: 2 } });
  const clients = [];
  try {
    for (let i = 0; i < CLIENTS; i += 100) {
      clients.push(...await Promise.all(Array.from({ length: 100 }, async (_, k) => {
        const c = await open(ws, `127.0.0.${1 + Math.floor((i + k) / 500)}`);
        await subscribe(c, `group-${(i + k) % GROUPS}`);
        await subscribe(c, "everyone");
        return c;
      })));
    }
    const health = await (await fetch(http + "/healthz")).json();
    assert(health.websockets.open === CLIENTS, JSON.stringify(health.websockets));
    const hearing = clients.map(hearBoth);
    for (let g = 0; g < GROUPS; g++) {
      const r = await post(http, "/api/v1/jobs", { language: "bash", code: `echo group ${g}`, userId: `group-${g}` });
      assert(r.status === 202, JSON.stringify(r));
    }
    const r = await post(http, "/api/v1/jobs", { language: "python", code: BROADCAST, userId: "everyone" });
    assert(r.status === 202, JSON.stringify(r));
    const run = await post(http, "/api/v1/run", { language: "bash", code: "echo meanwhile" });
    assert(run.status === 200 && run.body.stdout === "meanwhile\n", JSON.stringify(run));
    // within the check's own time, so that the server is stopped either way
    const heard = await timeout(Promise.all(hearing), 90000, "every client hears");
    let all = "";
    for (let i = 1; i <= 200; i++) all += `everyone ${i}\n`;
    heard.forEach((h, i) => {
      assert(h.group === `group ${i % GROUPS}\n`, `client ${i}: ${JSON.stringify(h.group)}`);
      assert(h.all === all, `client ${i}: everyone's output`);
    });
  } finally {
    clients.forEach((c) => c.ws.terminate());
    const code = await stopServer(proc);
    assert(code === 0, `the server stopped with ${code}`);
  }
}

async function main() {
  const { proc, ws } = await startServer({
    pool_total: 0, pool_sizes: { python: 2, bash: 1 }, ws_stall_timeout_s: STALL_S,
  });
  try {
    await check("a run: queued, started, stdout as it comes, result", () => streamedRun(ws));
    await check("pings get pongs, with their payload, while a job runs", () => pings(ws));
    await check("a message in fragments, a ping between", () => fragments(ws));
    await check("24 MiB of output read at once, then the result", () => bigOutput(ws));
    await check("a stalled client: whole frames, slow_reader, close 1008", () => stalled(ws));
  } finally {
    const code = await stopServer(proc);
    results.push(["the server stops with 0", code === 0]);
    console.log(`${code === 0 ? "ok" : "not ok"} - the server stops with 0 (${code})`);
  }
  await check("2 000 clients hear their results while HTTP answers", twoThousand);
  const passed = results.filter(([, ok]) => ok).length;
  console.log(`${passed} passed, ${results.length - passed} failed`);
  process.exit(passed === results.length ? 0 : 1);
}

main().catch((e) => {
  console.log(`not ok - ${e.stack || e}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
});
