// npm run bench:web -- [--no-build]
// The web UI's initial JavaScript: the entry script of web/dist/index.html and every module it imports
// statically (or that index.html modulepreloads), raw and gzipped (zlib level 9), against the 200 kB budget.
// Lazy page chunks are listed apart: they load when their page is opened.
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { buildWeb, isStale } from "../web/build.ts";

const BUDGET_BYTES = 200 * 1000;
const DIST = path.join(import.meta.dirname, "..", "web", "dist");

const { values } = parseArgs({ options: { "no-build": { type: "boolean", default: false } } });

/** Static `import … from "./x.js"`, `import "./x.js"` and `export … from "./x.js"`; never `import("./x.js")`. */
const STATIC_IMPORT = /(?:^|[;\s}])(?:import\s*(?:[^"'();]*?\bfrom\s*)?|export\s*(?:\*|\{[^}]*\})\s*from\s*)["']([^"']+\.js)["']/g;

interface Sizes {
  file: string;
  raw: number;
  gzip: number;
}

async function sizes(file: string): Promise<Sizes> {
  const bytes = await readFile(path.join(DIST, file));
  return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

/** The entry and modulepreloaded scripts of index.html, then everything they import statically. */
async function initialScripts(): Promise<string[]> {
  const html = await readFile(path.join(DIST, "index.html"), "utf8");
  const roots = [
    ...html.matchAll(/<script[^>]*type="module"[^>]*src="\/([^"]+)"/g),
    ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="\/([^"]+)"/g),
  ].map((m) => m[1]!);
  const seen = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = await readFile(path.join(DIST, file), "utf8");
    for (const match of code.matchAll(STATIC_IMPORT)) {
      await visit(path.posix.join(path.posix.dirname(file), match[1]!));
    }
  };
  for (const root of roots) await visit(root);
  return [...seen];
}

const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;
const row = (s: Sizes) => `  ${s.file.padEnd(52)} ${kB(s.raw).padStart(10)} ${kB(s.gzip).padStart(10)}`;

if (!values["no-build"] && isStale()) {
  console.log("Building web/dist…");
  await buildWeb();
}

const initial = await Promise.all((await initialScripts()).map(sizes));
const all = (await readdir(path.join(DIST, "assets"))).map((f) => `assets/${f}`);
const lazy = await Promise.all(all.filter((f) => f.endsWith(".js") && !initial.some((s) => s.file === f)).map(sizes));
const css = await Promise.all(all.filter((f) => f.endsWith(".css")).map(sizes));
const sum = (list: Sizes[], key: "raw" | "gzip") => list.reduce((total, s) => total + s[key], 0);

console.log(`Initial JavaScript (loaded by index.html before the first page renders):`);
console.log(`  ${"file".padEnd(52)} ${"raw".padStart(10)} ${"gzip -9".padStart(10)}`);
for (const s of initial.sort((a, b) => b.gzip - a.gzip)) console.log(row(s));
const total = sum(initial, "gzip");
console.log(`  ${"total".padEnd(52)} ${kB(sum(initial, "raw")).padStart(10)} ${kB(total).padStart(10)}`);
console.log(`Lazy chunks (pages): ${lazy.length} files, ${kB(sum(lazy, "raw"))} raw, ${kB(sum(lazy, "gzip"))} gzipped in all; largest ${lazy.sort((a, b) => b.gzip - a.gzip)[0]?.file ?? "-"} (${kB(lazy[0]?.gzip ?? 0)} gzipped)`);
console.log(`CSS: ${kB(sum(css, "raw"))} raw, ${kB(sum(css, "gzip"))} gzipped in ${css.length} files`);
console.log(`Budget: ${kB(total)} of ${kB(BUDGET_BYTES)} gzipped initial JavaScript (${Math.round((total / BUDGET_BYTES) * 100)}%)${total > BUDGET_BYTES ? " — OVER BUDGET" : ""}`);
if (total > BUDGET_BYTES) process.exitCode = 1;
