import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitUntil } from "./wait.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface Spawned {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs one of our entry points (main.ts, cli.ts) with Node 24, as `npm start` / `npm run cli` would. */
export function spawnEntry(args: string[], env: Record<string, string>, input?: string): Spawned {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", LOG_LEVEL: "info", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  child.stdin!.end(input ?? "");
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

export async function runEntry(args: string[], env: Record<string, string>, input?: string) {
  const spawned = spawnEntry(args, env, input);
  const { code } = await spawned.exited;
  return { code, output: spawned.output() };
}

export async function waitForHealthy(url: string, spawned: Spawned, timeoutMs = 60_000): Promise<void> {
  try {
    await waitUntil(async () => {
      if (spawned.child.exitCode !== null) throw new Error(`Process exited early:\n${spawned.output()}`);
      try {
        const res = await fetch(`${url}/api/v1/health`);
        return res.ok && (await res.json()).worker.ok === true;
      } catch {
        return false; // not listening yet
      }
    }, { timeout: timeoutMs, interval: 100, what: "a healthy server" });
  } catch (error) {
    if (spawned.child.exitCode !== null) throw error;
    throw new Error(`Server did not become healthy:\n${spawned.output()}`, { cause: error });
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
