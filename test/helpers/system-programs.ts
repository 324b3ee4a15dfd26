import { execFileSync } from "node:child_process";

/**
 * Finds a system program a test drives for real (nginx, ffmpeg, chromium). Locally a missing program
 * skips the tests with a printed reason; under CI (CI=true) it is an error, since .ci/run installs them.
 */
export function systemProgram(
  name: string,
  candidates: string[] = [name, `/usr/sbin/${name}`],
  versionArgs: string[] = ["-v"],
): string | undefined {
  for (const candidate of candidates) {
    try {
      execFileSync(candidate, versionArgs, { stdio: "ignore", timeout: 30_000 });
      return candidate;
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOENT") return candidate;
    }
  }
  if (process.env.CI === "true") throw new Error(`${name} is required under CI; .ci/run should have installed it`);
  console.warn(`[skip] ${name} is not installed: skipping the tests that need it (apt-get install ${name})`);
  return undefined;
}

let chromium: string | undefined | null = null;

/** Chromium for the web UI's browser tests (playwright-core drives it); Debian's package is `chromium`. */
export function chromiumPath(): string | undefined {
  // `--version`: any other flag (or none) would start the browser itself.
  if (chromium === null) chromium = systemProgram("chromium", ["chromium", "chromium-browser", "/usr/bin/chromium"], ["--version"]);
  return chromium;
}

export function hasChromium(): boolean {
  return chromiumPath() !== undefined;
}
