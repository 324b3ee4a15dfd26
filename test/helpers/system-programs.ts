import { execFileSync } from "node:child_process";

/**
 * Finds a system program a test drives for real (nginx, ffmpeg, chromium). Locally a missing program
 * skips the tests with a printed reason; under CI (CI=true) it is an error, since .ci/run installs them.
 */
export function systemProgram(name: string, candidates: string[] = [name, `/usr/sbin/${name}`]): string | undefined {
  for (const candidate of candidates) {
    try {
      execFileSync(candidate, ["-v"], { stdio: "ignore" });
      return candidate;
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOENT") return candidate;
    }
  }
  if (process.env.CI === "true") throw new Error(`${name} is required under CI; .ci/run should have installed it`);
  console.warn(`[skip] ${name} is not installed: skipping the tests that need it (apt-get install ${name})`);
  return undefined;
}
