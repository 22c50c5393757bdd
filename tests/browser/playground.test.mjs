// The playground in a real browser: `sandpool serve` on loopback, headless
// Chromium (Debian's /usr/bin/chromium) driven by playwright-core. Loads the
// page, runs the python hello and sees its output appear, then runs an
// interactive program and types into it, then lets the page go idle (the
// server closes its WebSocket) and runs again. Leaves a screenshot in
// $SANDPOOL_ARTEFACTS (default results/). Ends with "N passed, M failed".
//
//   node tests/browser/playground.test.mjs
//   env: SANDPOOL_BIN (./sandpool), SANDPOOL_STATE_DIR, CHROMIUM (/usr/bin/chromium)
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { startServer as startSandpool, stopServer } from "../node-lib/sandpool.mjs";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARTEFACTS = process.env.SANDPOOL_ARTEFACTS || "results";
const WAIT = 60000;

// A page that runs nothing for 3 s is closed by the server, and reconnects
// when it has something to run: every check below runs either way.
function startServer() {
  return startSandpool({ pool_total: 0, pool_sizes: { python: 1, c: 1 }, ws_idle_timeout_s: 3 },
    "sandpool-browser-");
}

const results = [];
async function check(name, fn) {
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok - ${name}`);
  } catch (e) {
    results.push([name, false]);
    console.log(`not ok - ${name}\n#   ${String(e.stack || e).split("\n").join("\n#   ")}`);
  }
}

async function setCode(page, code) {
  await page.fill("#code", code);
}

async function main() {
  const { proc, url } = await startServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container has no user namespace sandbox for Chromium; the
    // browser is the test's client here, not what is under test.
    args: process.getuid() === 0 ? ["--no-sandbox"] : [],
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
  const consoleErrors = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  try {
    await check("the page loads with the languages and connects", async () => {
      await page.goto(url + "/");
      await page.waitForSelector("#language option[value=python]", { state: "attached", timeout: WAIT });
      await page.waitForFunction(() => document.getElementById("connection").textContent === "connected",
        null, { timeout: WAIT });
      const title = await page.title();
      if (title !== "sandpool playground") throw new Error(`title ${title}`);
    });

    await check("the python hello runs and its output appears", async () => {
      await page.selectOption("#language", "python");
      await setCode(page, "print('Hello World!')\n");
      await page.click("#run");
      await page.waitForFunction(() => document.getElementById("output").textContent === "Hello World!\n",
        null, { timeout: WAIT });
      await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("ok"),
        null, { timeout: WAIT });
    });

    await check("an interactive program reads what is typed", async () => {
      await setCode(page, "name = input('Your name? ')\nprint(f'Hello, {name}!')\n");
      await page.click("#run");
      await page.waitForFunction(() => document.getElementById("output").textContent.includes("Your name?"),
        null, { timeout: WAIT });
      await page.fill("#input", "Ada");
      await page.click("#send");
      await page.waitForFunction(() => document.getElementById("output").textContent.includes("Hello, Ada!"),
        null, { timeout: WAIT });
      await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("ok"),
        null, { timeout: WAIT });
      mkdirSync(ARTEFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTEFACTS, "playground.png"), fullPage: true });
    });

    await check("a compile error shows the compiler's message", async () => {
      await page.selectOption("#language", "c");
      await setCode(page, "int main(void) { return nope; }\n");
      await page.click("#run");
      await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("compile_error"),
        null, { timeout: WAIT });
      const out = await page.textContent("#output");
      if (!out.includes("nope")) throw new Error(`output: ${out}`);
    });

    await check("an idle page is closed by the server and reconnects to run", async () => {
      await page.waitForFunction(() => document.getElementById("connection").textContent.startsWith("idle"),
        null, { timeout: WAIT });
      if (await page.isDisabled("#run")) throw new Error("run is disabled while idle");
      await page.selectOption("#language", "python");
      await setCode(page, "print('back')\n");
      await page.click("#run");
      await page.waitForFunction(() => document.getElementById("output").textContent === "back\n",
        null, { timeout: WAIT });
      const connection = await page.textContent("#connection");
      if (connection !== "connected") throw new Error(`connection: ${connection}`);
    });

    await check("no error in the page's console", async () => {
      if (consoleErrors.length) throw new Error(consoleErrors.join("\n"));
    });
  } finally {
    await browser.close();
    const code = await stopServer(proc);
    await check("sandpool serve stops cleanly", async () => {
      if (code !== 0) throw new Error(`exit ${code}`);
    });
  }
  const passed = results.filter(([, ok]) => ok).length;
  console.log(`browser: ${passed} passed, ${results.length - passed} failed`);
  process.exit(passed === results.length ? 0 : 1);
}

main().catch((e) => {
  console.log(`not ok - ${e.stack || e}`);
  process.exit(1);
});
