// Piston's WebSocket API, /api/v2/connect, with the ws package against
// `sandpool serve`: a run's messages in Piston's order (runtime, stage, data,
// exit) and its close (4999), stdin from the init and from data messages, a
// C compile error, every close code of Piston's (4000-4005), a SIGKILL that
// ends an endless loop, hostile frames (not JSON, binary, over
// ws_max_frame), a client that goes mid-run (its job cancelled, its cell
// back), /api/v2/piston/connect, and tokens. Ends with "N passed, M
// failed".
//
//   node tests/piston-node/connect.test.mjs
//   env: SANDPOOL_BIN (./sandpool), SANDPOOL_STATE_DIR
import WebSocket from "ws";
import { startServer, stopServer, runTests } from "../node-lib/sandpool.mjs";

const WAIT = 60000;
const TOKEN = "piston-connect-token-0123456789";
const MAX_FRAME = 65536;

function assert(cond, what) {
  if (!cond) throw new Error(`assertion failed: ${what}`);
}

function equal(got, want, what) {
  assert(JSON.stringify(got) === JSON.stringify(want),
    `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// A connection whose messages and close are kept as they come.
function open(url, options = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    const c = { ws, messages: [], closed: null, waiters: [] };
    const wake = () => c.waiters.splice(0).forEach((w) => w());
    ws.on("message", (data) => {
      c.messages.push(JSON.parse(data.toString()));
      wake();
    });
    ws.on("close", (code, reason) => {
      c.closed = { code, reason: reason.toString() };
      wake();
    });
    ws.on("unexpected-response", (req, res) => {
      reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`),
        { status: res.statusCode }));
    });
    ws.on("error", reject);
    ws.on("open", () => resolve(c));
  });
}

// Wait until PRED(c) holds (any message or the close wakes it).
async function until(c, pred, what) {
  const deadline = Date.now() + WAIT;
  while (!pred(c)) {
    assert(Date.now() < deadline, `timed out waiting for ${what}: ${JSON.stringify(c.messages)}`);
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 1000);
      c.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

const closed = (c) => until(c, (x) => x.closed !== null, "the close").then(() => c.closed);
const heard = (c, type, extra = () => true) =>
  until(c, (x) => x.messages.some((m) => m.type === type && extra(m)), type);

function init(body) {
  return JSON.stringify({ type: "init", version: "*", ...body });
}

function send(c, msg) {
  c.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
}

// What the stream STREAM said, all its data messages joined.
function said(c, stream) {
  return c.messages.filter((m) => m.type === "data" && m.stream === stream)
    .map((m) => m.data).join("");
}

const tests = [];
function test(name, fn) {
  tests.push({ name, fn });
}

let server;
let url;

test("a run: runtime, stage, data, exit in Piston's order, then 4999", async () => {
  const c = await open(url);
  send(c, init({ language: "python", files: [{ content: "print('one', flush=True)\nprint('two')" }] }));
  equal(await closed(c), { code: 4999, reason: "Job Completed" }, "the close");
  const types = c.messages.map((m) => m.type);
  equal(types[0], "runtime", "the first message");
  equal([c.messages[0].language, typeof c.messages[0].version], ["python", "string"], "runtime");
  equal(c.messages[1], { type: "stage", stage: "run" }, "the stage");
  equal(types[types.length - 1], "exit", "the last message");
  assert(types.slice(2, -1).every((t) => t === "data"), `only data between: ${types}`);
  equal(said(c, "stdout"), "one\ntwo\n", "stdout");
  const exit = c.messages[c.messages.length - 1];
  equal([exit.stage, exit.code, exit.signal], ["run", 0, null], "the exit");
});

test("stdin: the init's first, then data messages (a program that echoes a line)", async () => {
  const c = await open(url);
  const code = "import sys\nprint(input(), flush=True)\nprint(sys.stdin.readline().upper())";
  send(c, init({ language: "py", files: [{ content: code }], stdin: "first\n" }));
  await heard(c, "data", (m) => m.data.includes("first"));
  send(c, { type: "data", stream: "stdin", data: "second line\n" });
  equal(await closed(c), { code: 4999, reason: "Job Completed" }, "the close");
  equal(said(c, "stdout"), "first\nSECOND LINE\n\n", "what it echoed");
  const exit = c.messages.find((m) => m.type === "exit");
  equal([exit.code, exit.signal], [0, null], "the exit");
});

test("\"eof\": true (sandpool's own member) closes stdin: a program reads to its end", async () => {
  const c = await open(url);
  send(c, init({ language: "python", files: [{ content: "import sys\nprint(len(sys.stdin.read()))" }],
    stdin: "ab" }));
  await heard(c, "stage");
  send(c, { type: "data", stream: "stdin", data: "cd" });
  send(c, { type: "data", stream: "stdin", data: "e", eof: true });
  equal(await closed(c), { code: 4999, reason: "Job Completed" }, "the close");
  equal(said(c, "stdout"), "5\n", "it read to the end of its input");
});

test("a signal that does not end a process (SIGWINCH) is taken and does nothing", async () => {
  const c = await open(url);
  send(c, init({ language: "python", files: [{ content: "print(input()[::-1])" }] }));
  await heard(c, "stage");
  send(c, { type: "signal", signal: "SIGWINCH" });
  send(c, { type: "data", stream: "stdin", data: "olleh\n" });
  equal(await closed(c), { code: 4999, reason: "Job Completed" }, "the close");
  equal(said(c, "stdout"), "hello\n", "the program ran on");
});

test("C: a compile error ends with the compile's exit; a good one compiles, then runs", async () => {
  const bad = await open(url);
  send(bad, init({ language: "c", files: [{ content: "int main(void) { return x; }" }] }));
  equal(await closed(bad), { code: 4999, reason: "Job Completed" }, "the close");
  equal(bad.messages.filter((m) => m.type === "stage"), [{ type: "stage", stage: "compile" }],
    "the compile stage only");
  assert(said(bad, "stderr").includes("error"), `the compiler's message: ${said(bad, "stderr")}`);
  const exit = bad.messages[bad.messages.length - 1];
  equal([exit.type, exit.stage, exit.code, exit.signal], ["exit", "compile", 1, null], "its exit");

  const good = await open(url);
  send(good, init({ language: "c",
    files: [{ content: "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 3; }" }] }));
  equal(await closed(good), { code: 4999, reason: "Job Completed" }, "the close");
  const order = good.messages.filter((m) => m.type !== "data")
    .map((m) => m.type + (m.stage ? ":" + m.stage : ""));
  equal(order, ["runtime", "stage:compile", "exit:compile", "stage:run", "exit:run"], "the order");
  const exits = good.messages.filter((m) => m.type === "exit").map((m) => [m.code, m.signal]);
  equal(exits, [[0, null], [3, null]], "the exits");
  equal(said(good, "stdout"), "hi\n", "stdout");
});

test("a bad init: Piston's message, then 4002", async () => {
  const c = await open(url);
  send(c, init({ language: "no-such-language", files: [{ content: "x" }] }));
  equal(await closed(c), { code: 4002, reason: "Notified Error" }, "the close");
  equal(c.messages, [{ type: "error", message: "no-such-language-* runtime is unknown" }],
    "the message");
  const d = await open(url);
  send(d, JSON.stringify({ type: "init", language: "python", files: [{ content: "1" }] }));
  equal(await closed(d), { code: 4002, reason: "Notified Error" }, "no version");
  equal(d.messages, [{ type: "error", message: "version is required as a string" }], "its message");
});

test("a second init: 4000", async () => {
  const c = await open(url);
  const body = init({ language: "python", files: [{ content: "import time\ntime.sleep(30)" }] });
  send(c, body);
  send(c, body);
  equal(await closed(c), { code: 4000, reason: "Already Initialized" }, "the close");
});

test("data or a signal before the init: 4003", async () => {
  const c = await open(url);
  send(c, { type: "data", stream: "stdin", data: "x\n" });
  equal(await closed(c), { code: 4003, reason: "Not yet initialized" }, "data");
  const d = await open(url);
  send(d, { type: "signal", signal: "SIGKILL" });
  equal(await closed(d), { code: 4003, reason: "Not yet initialized" }, "a signal");
});

test("data to a stream other than stdin: 4004", async () => {
  const c = await open(url);
  send(c, init({ language: "python", files: [{ content: "input()" }] }));
  send(c, { type: "data", stream: "stdout", data: "x\n" });
  equal(await closed(c), { code: 4004, reason: "Can only write to stdin" }, "the close");
});

test("a signal Piston does not know: 4005 (a number too, as in Piston)", async () => {
  for (const signal of ["SIGFOO", 9, "kill"]) {
    const c = await open(url);
    send(c, init({ language: "python", files: [{ content: "input()" }] }));
    send(c, { type: "signal", signal });
    equal(await closed(c), { code: 4005, reason: "Invalid signal" }, JSON.stringify(signal));
  }
});

test("SIGKILL ends an endless loop: its exit says so, then 4999", async () => {
  const c = await open(url);
  send(c, init({ language: "python", files: [{ content: "print('looping', flush=True)\nwhile True: pass" }],
    run_timeout: 60000 }));
  await heard(c, "data", (m) => m.data.includes("looping"));
  send(c, { type: "signal", signal: "SIGKILL" });
  equal(await closed(c), { code: 4999, reason: "Job Completed" }, "the close");
  const exit = c.messages[c.messages.length - 1];
  equal([exit.type, exit.stage, exit.code, exit.signal], ["exit", "run", null, "SIGKILL"], "exit");
});

test("no init within a second: 4001", async () => {
  const c = await open(url);
  equal(await closed(c), { code: 4001, reason: "Initialization Timeout" }, "the close");
  equal(c.messages, [], "no message");
});

test("hostile frames: not JSON, binary, over ws_max_frame; a binary init is taken", async () => {
  const cases = [
    ["{not json", false],
    [Buffer.from([0, 1, 2, 255]), true],
    ["x".repeat(MAX_FRAME + 1000), false],
    ["[".repeat(1000), false], // deeper than a request body may nest
  ];
  for (const [data, binary] of cases) {
    const c = await open(url);
    c.ws.send(data, { binary });
    equal(await closed(c), { code: 4002, reason: "Notified Error" }, `${String(data).slice(0, 20)}`);
    equal([c.messages.length, c.messages[0].type, typeof c.messages[0].message], [1, "error", "string"],
      "an error message");
  }
  // JSON.parse takes a Buffer in Piston: so does sandpool
  const c = await open(url);
  c.ws.send(Buffer.from(init({ language: "python", files: [{ content: "print(7)" }] })), { binary: true });
  equal(await closed(c), { code: 4999, reason: "Job Completed" }, "a binary init");
  equal(said(c, "stdout"), "7\n", "its output");
  // JSON that is not a message Piston knows: ignored, then the init timeout
  const d = await open(url);
  send(d, "[1, 2]");
  send(d, { type: "nothing" });
  equal(await closed(d), { code: 4001, reason: "Initialization Timeout" }, "ignored");
  const health = await fetch(server.url + "/healthz");
  equal(health.status, 200, "the server is still there");
});

// The python cells' figures in /healthz.
async function python() {
  const r = await fetch(server.url + "/healthz");
  return (await r.json()).pool.python;
}

test("a client that goes mid-run: its job is cancelled, its cell comes back", async () => {
  const c = await open(url);
  send(c, init({ language: "python", files: [{ content: "print('up', flush=True)\nwhile True: pass" }],
    run_timeout: 60000 }));
  await heard(c, "data", (m) => m.data.includes("up"));
  assert((await python()).running >= 1, "running while the client is there");
  c.ws.terminate();
  const deadline = Date.now() + WAIT;
  let now;
  for (;;) {
    now = await python();
    if ((now.running === 0 && now.busy === 0 && now.starting === 0 && now.idle > 0) ||
      Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  equal([now.running, now.busy, now.queued, now.starting, now.idle > 0], [0, 0, 0, 0, true],
    "nothing stuck");
  const metrics = await (await fetch(server.url + "/metrics")).text();
  assert(/sandpool_jobs_total\{language="python",status="cancelled"\} [1-9]/.test(metrics),
    "counted as cancelled");
});

test("/api/v2/piston/connect is the same", async () => {
  const c = await open(url.replace("/api/v2/connect", "/api/v2/piston/connect"));
  send(c, init({ language: "bash", files: [{ content: "echo piston" }] }));
  equal(await closed(c), { code: 4999, reason: "Job Completed" }, "the close");
  equal(said(c, "stdout"), "piston\n", "stdout");
});

test("with tokens: none is refused before the upgrade; a header or ?token= is let in", async () => {
  const guarded = await startServer({ pool_total: 2, pool_sizes: { python: 1 }, tokens: [TOKEN] },
    "sandpool-connect-");
  const at = `ws://127.0.0.1:${guarded.port}/api/v2/connect`;
  try {
    let refused = null;
    try {
      await open(at);
    } catch (e) {
      refused = e.status;
    }
    equal(refused, 401, "no token");
    const body = init({ language: "python", files: [{ content: "print(1)" }] });
    for (const c of [await open(at, { headers: { Authorization: `Bearer ${TOKEN}` } }),
      await open(`${at}?token=${TOKEN}`)]) {
      send(c, body);
      equal(await closed(c), { code: 4999, reason: "Job Completed" }, "with the token");
      equal(said(c, "stdout"), "1\n", "its output");
    }
  } finally {
    await stopServer(guarded.proc);
  }
});

runTests(tests, async () => {
  // python warm whatever the languages (pool_total alone would go to the
  // first ones by name)
  server = await startServer({ pool_total: 8, pool_sizes: { python: 1 }, ws_max_frame: MAX_FRAME },
    "sandpool-connect-");
  url = `ws://127.0.0.1:${server.port}/api/v2/connect`;
  return server;
});
