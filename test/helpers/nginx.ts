import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort } from "./ports.ts";
import { ROOT } from "./processes.ts";
import { systemProgram } from "./system-programs.ts";
import { waitUntil } from "./wait.ts";

export const SITE_CONFIG = path.join(ROOT, "config/nginx/polyphony.conf");
/** The stand-in web UI nginx serves: an index page and one hashed asset, as Vite lays out web/dist. */
export const WEB_INDEX = "<!doctype html><title>Polyphony</title>\n";
export const WEB_ASSET = { path: "/assets/index-Nx4t3st1.js", body: "console.log('polyphony');\n" };

export interface NginxOptions {
  /** Port of the Express app on 127.0.0.1 (the site's `upstream` points there). */
  upstreamPort: number;
  /** Folder that the internal `/_protected/media/` location serves. */
  mediaRoot: string;
  /**
   * Site config text; defaults to config/nginx/polyphony.conf, so the production file is what gets tested.
   * A replacement must use the same production placeholders (see localizeSite).
   */
  siteConfig?: string;
}

export interface RunningNginx {
  url: string;
  /** nginx's error log so far (it goes to a file in the temp dir). */
  errorLog(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Production paths and addresses in the site config, and what the test puts in their place. Each must be
 * found: if the real file changes shape, the nginx tests fail loudly instead of testing something else.
 */
function localizeSite(site: string, values: { upstream: string; listen: string; media: string; web: string }): string {
  const substitutions: [RegExp, string][] = [
    [/server web:4000;/g, `server ${values.upstream};`],
    [/listen 80 default_server;/g, `listen ${values.listen} default_server;`],
    [/alias \/srv\/polyphony\/media\/;/g, `alias ${values.media}/;`],
    [/root \/srv\/polyphony\/web;/g, `root ${values.web};`],
  ];
  let result = site;
  for (const [pattern, replacement] of substitutions) {
    if (!pattern.test(result)) throw new Error(`The nginx site config no longer contains ${pattern}; update test/helpers/nginx.ts`);
    result = result.replace(pattern, replacement);
  }
  return result;
}

/**
 * What docker's nginx image has around conf.d/default.conf, with every writable path inside `dir`.
 * Under root, workers would run as `nobody` and could not read a 0700 temp dir: keep them root here.
 */
function mainConfig(dir: string): string {
  const mimeTypes = "/etc/nginx/mime.types";
  return [
    "daemon off;",
    "worker_processes 1;",
    process.getuid?.() === 0 ? "user root;" : "",
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log info;`,
    "events { worker_connections 256; }",
    "http {",
    existsSync(mimeTypes) ? `  include ${mimeTypes};` : "",
    "  default_type application/octet-stream;",
    "  sendfile on;",
    `  access_log ${dir}/access.log;`,
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `  ${kind}_temp_path ${dir}/${kind};`),
    `  include ${dir}/site.conf;`,
    "}",
    "",
  ].join("\n");
}

/** Resolves once nginx answers on the port; rejects if it exits first (e.g. the port was taken meanwhile). */
async function waitUntilListening(child: ChildProcess, url: string, dir: string): Promise<void> {
  await waitUntil(async () => {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = await readFile(path.join(dir, "error.log"), "utf8").catch(() => "");
      throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}):\n${log}`);
    }
    return fetch(url, { method: "HEAD" }).then(() => true, () => false);
  }, { timeout: 5_000, interval: 25, what: "nginx to listen" });
}

/** SIGTERM is nginx's fast shutdown: the master stops its workers, removes its pid file and exits. */
function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

async function launch(nginx: string, options: NginxOptions, site: string): Promise<RunningNginx> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "polyphony-nginx-"));
  const port = await freePort();
  const web = path.join(dir, "web");
  await mkdir(path.join(web, "assets"), { recursive: true });
  await writeFile(path.join(web, "index.html"), WEB_INDEX);
  await writeFile(path.join(web, WEB_ASSET.path), WEB_ASSET.body);
  const media = path.resolve(options.mediaRoot).replace(/\/$/, "");
  const listen = `127.0.0.1:${port}`;
  await writeFile(path.join(dir, "site.conf"), localizeSite(site, { upstream: `127.0.0.1:${options.upstreamPort}`, listen, media, web }));
  await writeFile(path.join(dir, "nginx.conf"), mainConfig(dir));
  // -e: the error log before the config is read must not go to /var/log/nginx either.
  const args = ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-e", path.join(dir, "error.log")];
  const child = spawn(nginx, args, { stdio: "ignore" });
  const url = `http://${listen}`;
  const stop = async () => {
    await terminate(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilListening(child, url, dir);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop, errorLog: () => readFile(path.join(dir, "error.log"), "utf8").catch(() => "") };
}

/**
 * Runs a real nginx in front of the app on 127.0.0.1, with the production site config. Call only when
 * `systemProgram("nginx")` found it (tests use describe.skipIf). freePort can race with another process,
 * so a start that fails is retried on a new port.
 */
export async function startNginx(options: NginxOptions): Promise<RunningNginx> {
  const nginx = systemProgram("nginx");
  if (!nginx) throw new Error("nginx is not installed");
  const site = options.siteConfig ?? (await readFile(SITE_CONFIG, "utf8"));
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(nginx, options, site);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("Address already in use")) throw error;
    }
  }
}
