// The official MJML compiler (npm "mjml", installed into bench/node_modules by bench/newsletter.py)
// on one MJML file: `node mjml_official.js FILE [RUNS] [WARMUP]` prints JSON:
// median_ms of RUNS in-process compiles after WARMUP compiles (default 100: V8 needs about that many
// to reach steady state, so the figure is the official compiler at its best, without Node's start-up),
// first_ms (the very first compile in this process, cold JIT), version and html_bytes.
// RUNS = 0 compiles once and exits: for timing a whole `node` process, as a CLI user pays it.
"use strict";
const fs = require("fs");
const { performance } = require("perf_hooks");
const mjml2html = require("mjml");

const source = fs.readFileSync(process.argv[2], "utf8");
const runs = Number(process.argv[3] || 50);
const warmup = runs ? Number(process.argv[4] ?? 100) : 1;
const options = { validationLevel: "soft", fonts: {} };

const timed = () => {
  const start = performance.now();
  const html = mjml2html(source, options).html;
  return [performance.now() - start, html];
};

const [first_ms, html] = timed();
for (let i = 1; i < warmup; i++) timed();
const times = [];
for (let i = 0; i < runs; i++) times.push(timed()[0]);
times.sort((a, b) => a - b);
const mid = times.length >> 1;
const median_ms = !runs ? first_ms : times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
console.log(JSON.stringify({
  median_ms,
  first_ms,
  runs,
  warmup,
  version: require("mjml/package.json").version,
  html_bytes: Buffer.byteLength(html, "utf8"),
}));
