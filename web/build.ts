// Builds the web UI into web/dist: run by `npm install` (postinstall), `npm run build:web`, and by `npm start`
// with --if-stale (only when web/dist is missing or older than a source file).
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

const webDir = path.dirname(fileURLToPath(import.meta.url));
const SOURCES = ["index.html", "vite.config.ts", "src", "public"];

/** Newest modification time (ms) of a file or of any file below a folder; 0 when missing. */
function newestMtime(target: string): number {
  let stat;
  try {
    stat = statSync(target);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(target).reduce((newest, name) => Math.max(newest, newestMtime(path.join(target, name))), stat.mtimeMs);
}

export function isStale(): boolean {
  const built = newestMtime(path.join(webDir, "dist", "index.html"));
  return built === 0 || SOURCES.some((source) => newestMtime(path.join(webDir, source)) > built);
}

export async function buildWeb(): Promise<void> {
  // Always the production bundle: Vue's development build (warnings, devtools) would double the size, and an
  // ambient NODE_ENV (vitest sets "test") would otherwise select it.
  process.env.NODE_ENV = "production";
  await build({ root: webDir, configFile: path.join(webDir, "vite.config.ts"), logLevel: "warn" });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes("--if-stale");
  if (ifStale && !isStale()) process.exit(0);
  const started = performance.now();
  await buildWeb();
  console.log(`web UI built into web/dist in ${Math.round(performance.now() - started)} ms`);
}
