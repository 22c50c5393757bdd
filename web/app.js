// The sandpool playground: plain JavaScript over the public API
// (GET /api/v1/languages, and the WebSocket at /api/v1/ws). A token, when
// the server asks for one, comes from the page's address: /?token=...
"use strict";

const samples = {
  python: 'name = input("Your name? ")\nprint(f"Hello, {name}!")\n',
  c: '#include <stdio.h>\n\nint main(void)\n{\n\tputs("Hello World!");\n\treturn 0;\n}\n',
  cpp: '#include <iostream>\n\nint main()\n{\n\tstd::cout << "Hello World!" << std::endl;\n}\n',
  java: 'public class Main {\n\tpublic static void main(String[] args) {\n\t\tSystem.out.println("Hello World!");\n\t}\n}\n',
  javascript: 'console.log("Hello World!");\n',
  go: 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("Hello World!")\n}\n',
  rust: 'fn main() {\n    println!("Hello World!");\n}\n',
  bash: 'echo "Hello World!"\n',
};

const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token");
// idle: the server closed the WebSocket for idleness; the next run reconnects
const state = { ws: null, job: null, ref: 0, edited: false, idle: false };

function apiHeaders() {
  return token ? { Authorization: "Bearer " + token } : {};
}

function setStatus(text, kind) {
  const s = $("status");
  s.textContent = text;
  s.className = kind || "muted";
}

function setRunning(running) {
  $("run").disabled = running || !(state.ws || state.idle);
  $("cancel").disabled = !running;
  $("input").disabled = !running;
  $("send").disabled = !running;
  $("eof").disabled = !running;
}

function append(text, stream) {
  const span = document.createElement("span");
  if (stream === "stderr") span.className = "stderr";
  span.textContent = text;
  $("output").appendChild(span);
  $("output").scrollTop = $("output").scrollHeight;
}

function decode(ev) {
  if (ev.encoding !== "base64") return ev.data;
  const bytes = Uint8Array.from(atob(ev.data), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

function describe(result) {
  const step = result.run || result.compile;
  const parts = [result.status];
  if (step) {
    if (step.exit_code !== null && step.exit_code !== undefined) parts.push("exit " + step.exit_code);
    if (step.signal) parts.push("signal " + step.signal);
    parts.push(step.wall_ms + " ms", step.cpu_ms + " ms cpu", step.memory_kb + " KiB");
  }
  if (result.error) parts.push(result.error);
  return parts.join(" · ");
}

function onEvent(ev) {
  if (state.job && ev.id && ev.id !== state.job && ev.type !== "queued") return;
  switch (ev.type) {
    case "queued":
      if (ev.ref !== String(state.ref)) return;
      state.job = ev.id;
      setStatus("queued" + (ev.position ? ", " + ev.position + " ahead" : ""));
      break;
    case "started":
      setStatus(ev.stage === "compile" ? "compiling…" : "running…");
      break;
    case "stdout":
    case "stderr":
      append(decode(ev), ev.type);
      break;
    case "result": {
      const r = ev.result;
      if (r.compile && r.status === "compile_error") append(r.compile.stderr || r.compile.stdout, "stderr");
      setStatus(describe(r), r.status === "ok" ? "ok" : "bad");
      state.job = null;
      setRunning(false);
      break;
    }
    case "error":
      setStatus(ev.code + ": " + ev.message, "bad");
      if (!state.job) setRunning(false);
      break;
  }
}

function connect(then) {
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host +
    "/api/v1/ws" + (token ? "?token=" + encodeURIComponent(token) : "");
  const ws = new WebSocket(url);
  ws.onopen = () => {
    state.ws = ws;
    $("connection").textContent = "connected";
    setRunning(false);
    if (then) then();
  };
  ws.onmessage = (m) => onEvent(JSON.parse(m.data));
  ws.onclose = (e) => {
    state.ws = null;
    state.job = null;
    // Closed for idleness (1001, "idle ..."): no need to hold a place on the
    // server until there is something to run.
    state.idle = e.code === 1001 && e.reason.startsWith("idle");
    $("connection").textContent = state.idle ? "idle: reconnects on the next run"
      : "disconnected, retrying…";
    setRunning(false);
    if (!state.idle) setTimeout(connect, 1000);
  };
}

function run() {
  if (!state.ws && state.idle) {
    state.idle = false;
    setRunning(true);
    connect(run);
    return;
  }
  if (!state.ws) return;
  state.ref += 1;
  state.job = null;
  $("output").textContent = "";
  setStatus("sending…");
  setRunning(true);
  state.ws.send(JSON.stringify({
    type: "run", ref: String(state.ref), interactive: true,
    language: $("language").value, code: $("code").value, stdin: $("stdin").value,
  }));
}

function sendLine(event) {
  event.preventDefault();
  if (!state.ws || !state.job) return;
  const line = $("input").value + "\n";
  append(line, "stdin");
  state.ws.send(JSON.stringify({ type: "stdin", id: state.job, data: line }));
  $("input").value = "";
}

async function loadLanguages() {
  const answer = await fetch("/api/v1/languages", { headers: apiHeaders() });
  if (!answer.ok) throw new Error("languages: HTTP " + answer.status);
  const select = $("language");
  for (const l of await answer.json()) {
    const option = document.createElement("option");
    option.value = l.name;
    option.textContent = l.name + (l.version ? " " + l.version : "");
    select.appendChild(option);
  }
  select.value = samples.python && [...select.options].some((o) => o.value === "python") ? "python" : select.value;
  $("code").value = samples[select.value] || "";
}

$("language").addEventListener("change", () => {
  if (!state.edited) $("code").value = samples[$("language").value] || "";
});
$("code").addEventListener("input", () => { state.edited = true; });
$("run").addEventListener("click", run);
$("cancel").addEventListener("click", () => {
  if (state.ws && state.job) state.ws.send(JSON.stringify({ type: "cancel", id: state.job }));
});
$("input-form").addEventListener("submit", sendLine);
$("eof").addEventListener("click", () => {
  if (state.ws && state.job) state.ws.send(JSON.stringify({ type: "close_stdin", id: state.job }));
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run();
});

setRunning(false);
loadLanguages().catch((e) => setStatus(String(e), "bad"));
connect();
