// Piston's v2 API with Piston's own npm client, piston-client, unchanged:
// pointed at `sandpool serve`, it lists the runtimes and runs every
// language's samples (tests/languages: hello, and sum with stdin), args as
// they are, a compile error, a version range; then what the client does not
// send, by hand: Piston's errors, the output of both streams in the order
// written, an output past the limit, and tokens. Ends with "N passed, M
// failed".
//
//   node tests/piston-node/piston.test.mjs
//   env: SANDPOOL_BIN (./sandpool), SANDPOOL_STATE_DIR, SANDPOOL_SAMPLES (the
//   language samples: tests/languages)
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import piston from "piston-client";
import { startServer, stopServer, runTests } from "../node-lib/sandpool.mjs";

const SAMPLES =
  process.env.SANDPOOL_SAMPLES || join(dirname(fileURLToPath(import.meta.url)), "..", "languages");
const TOKEN = "piston-test-token-0123456789";

function assert(cond, what) {
  if (!cond) throw new Error(`assertion failed: ${what}`);
}

function equal(got, want, what) {
  assert(JSON.stringify(got) === JSON.stringify(want),
    `${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// The sample NAME of the language whose samples are in DIR: its source
// (hello.EXT) and what it must print (and read: NAME.in); null when the
// language has none, a NAME.skip saying why.
function sample(dir, name) {
  const files = readdirSync(join(SAMPLES, dir));
  if (files.includes(name + ".skip")) return null;
  const source = files.find((f) => f.startsWith(name + ".") && !/\.(out|in)$/.test(f));
  const read = (f) => readFileSync(join(SAMPLES, dir, f), "utf8");
  return {
    code: read(source),
    out: read(name + ".out"),
    stdin: files.includes(name + ".in") ? read(name + ".in") : undefined,
  };
}

// Where a runtime's samples are: its sandpool name, which Piston's name
// differs from for C++ ("cpp" is among its aliases).
function samplesOf(runtime) {
  const names = [runtime.language, ...runtime.aliases];
  return names.find((n) => readdirSync(SAMPLES).includes(n));
}

async function post(url, body, headers = {}) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

const tests = [];
function test(name, fn) {
  tests.push({ name, fn });
}

let server;
let client;

test("the runtimes are sandpool's languages, by Piston's names", async () => {
  const runtimes = await client.runtimes();
  const names = runtimes.map((r) => r.language).sort();
  for (const want of ["bash", "c", "c++", "javascript", "python"]) {
    assert(names.includes(want), `${want} among ${names}`);
  }
  const cpp = runtimes.find((r) => r.language === "c++");
  equal(cpp.runtime, "gcc", "c++'s runtime");
  assert(cpp.aliases.includes("cpp"), "cpp is an alias of c++");
  const python = runtimes.find((r) => r.language === "python");
  assert(python.aliases.includes("py3"), "py3 is an alias of python");
});

// A runtime's samples through the client: hello, and sum of its stdin.
async function runSamples(rt) {
  const dir = samplesOf(rt);
  assert(dir, `samples of ${rt.language}`);
  const hello = sample(dir, "hello");
  if (hello) {
    const got = await client.execute(rt.language, hello.code);
    equal(got.run && got.run.stdout, hello.out, `${rt.language} hello: ${JSON.stringify(got)}`);
    equal([got.language, got.version], [rt.language, rt.version], `${rt.language} runtime`);
    equal(got.run.code, 0, `${rt.language} exit code`);
  }
  const sum = sample(dir, "sum");
  if (sum) {
    const summed = await client.execute(rt.language, sum.code, { stdin: sum.stdin });
    equal(summed.run && summed.run.stdout, sum.out, `${rt.language} sum of its stdin`);
  }
}

test("every language runs its samples through the client", async () => {
  // three runtimes at a time: the languages are many, their compilers slow
  // a copy: the client keeps the list it returns, and looks in it on each call
  const waiting = [...(await client.runtimes())];
  const lane = async () => {
    while (waiting.length > 0) await runSamples(waiting.shift());
  };
  // every lane ends before the test does, failed or not
  const ends = await Promise.allSettled([lane(), lane(), lane()]);
  const failed = ends.find((end) => end.status === "rejected");
  if (failed) throw failed.reason;
});

test("args reach the program as they are", async () => {
  const code = readFileSync(join(SAMPLES, "python", "args.py"), "utf8");
  const got = await client.execute("python", code, { args: ["a b", "", "ü", "$HOME"] });
  equal(got.run.stdout, "3:a b\n0:\n2:ü\n5:$HOME\n", "args");
});

test("a compile error: the compile stage, and run is the same", async () => {
  const got = await client.execute("c", "int main(void) { return x; }");
  assert(got.compile, "a compile stage");
  equal(got.compile.code, 1, "the compiler's exit code");
  equal(got.compile.status, "RE", "its status");
  assert(got.compile.stderr.includes("error"), "the compiler's message");
  equal(got.run, got.compile, "run is compile");
});

test("a version range picks the runtime; one that matches none is unknown", async () => {
  const ok = await client.execute("py", "print(1)", { version: "3.x" });
  equal(ok.run.stdout, "1\n", "3.x");
  const caret = await client.execute("python3", "print(2)", { version: ">=3.0.0 <4" });
  equal(caret.run.stdout, "2\n", ">=3.0.0 <4");
  const none = await client.execute("python", "print(3)", { version: "2.x" });
  equal(none, { message: "python-2.x runtime is unknown" }, "2.x");
});

test("Piston's checks and their messages", async () => {
  const url = server.url + "/api/v2/execute";
  const file = [{ content: "print(1)" }];
  const cases = [
    [{ version: "*", files: file }, "language is required as a string"],
    [{ language: "python", files: file }, "version is required as a string"],
    [{ language: "python", version: "*" }, "files is required as an array"],
    [{ language: "python", version: "*", files: [{ name: "a" }] },
      "files[0].content is required as a string"],
    [{ language: "no-such-language", version: "*", files: file },
      "no-such-language-* runtime is unknown"],
    [{ language: "python", version: "*", files: [{ content: "cHJpbnQoMSk=", encoding: "base64" }] },
      "files must include at least one utf8 encoded file"],
    [{ language: "python", version: "*", files: file, run_timeout: "1" },
      "If specified, run_timeout must be a number"],
    [{ language: "python", version: "*", files: file, run_timeout: 10000000 },
      "run_timeout cannot exceed the configured limit of 120000"],
    [{ language: "python", version: "*", files: file, compile_cpu_time: -5 },
      "compile_cpu_time must be non-negative"],
  ];
  for (const [body, message] of cases) {
    const got = await post(url, body);
    equal([got.status, got.body], [400, { message }], JSON.stringify(body));
  }
  const form = await fetch(url, {
    method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "a=1",
  });
  equal([form.status, await form.json()],
    [415, { message: "requests must be of type application/json" }], "a form");
  const bad = await post(url, "{not json");
  equal(bad.status, 400, "a body that is not JSON");
  const missing = await fetch(server.url + "/api/v2/packages");
  equal([missing.status, await missing.json()], [404, { message: "Not Found" }], "no such route");
});

test("the output of both streams in the order written; limits as Piston's units", async () => {
  // a pause between writes: two pipes read at once cannot tell apart what
  // came within a moment on each
  const code = "import sys, time\nfor i in range(3):\n" +
    "    print('out', i, flush=True)\n    time.sleep(0.05)\n" +
    "    print('err', i, file=sys.stderr, flush=True)\n    time.sleep(0.05)\n";
  const got = await post(server.url + "/api/v2/execute", {
    language: "python", version: "*", files: [{ name: "main.py", content: code }],
    run_timeout: 5000, run_cpu_time: 3000, run_memory_limit: 256000000,
  });
  equal(got.status, 200, "status");
  equal(got.body.run.output, "out 0\nerr 0\nout 1\nerr 1\nout 2\nerr 2\n", "output in turn");
  equal(got.body.run.stdout, "out 0\nout 1\nout 2\n", "stdout");
  equal([got.body.run.status, got.body.run.signal, got.body.run.message], [null, null, null],
    "a clean exit");
  assert(got.body.run.memory > 1000000, "memory in bytes");
  const slow = await post(server.url + "/api/v2/execute", {
    language: "bash", version: "*", files: [{ content: "sleep 5" }], run_timeout: 300,
  });
  equal([slow.body.run.status, slow.body.run.signal], ["TO", "SIGKILL"], "a run past its timeout");
});

test("an output past the limit: sandpool's limit, and a status that says so", async () => {
  const got = await post(server.url + "/api/v2/execute", {
    language: "python", version: "*", files: [{ content: "print('x' * 4000000)" }],
  });
  equal([got.body.run.status, got.body.run.signal], ["OL", "SIGKILL"], "status");
  assert(got.body.run.message.includes("Output limit"), got.body.run.message);
  // far more than Piston's 1 KiB: the language's output_kb (1 MiB)
  equal(got.body.run.stdout.length, 1024 * 1024, "what was kept");
});

test("with tokens, the client's requests need one", async () => {
  const guarded = await startServer({ pool_total: 2, pool_sizes: { python: 1 }, tokens: [TOKEN] },
    "sandpool-piston-");
  try {
    const none = await post(guarded.url + "/api/v2/execute",
      { language: "python", version: "*", files: [{ content: "print(1)" }] });
    equal(none.status, 401, "no token");
    assert(typeof none.body.message === "string", "a message");
    const runtimes = await fetch(guarded.url + "/api/v2/runtimes");
    equal(runtimes.status, 401, "runtimes without a token");
    const ok = await post(guarded.url + "/api/v2/execute",
      { language: "python", version: "*", files: [{ content: "print(1)" }] },
      { Authorization: `Bearer ${TOKEN}` });
    equal([ok.status, ok.body.run.stdout], [200, "1\n"], "with the token");
  } finally {
    await stopServer(guarded.proc);
  }
});

runTests(tests, async () => {
  server = await startServer({ pool_total: 8 }, "sandpool-piston-");
  client = piston({ server: server.url });
  return server;
});
