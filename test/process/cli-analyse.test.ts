import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { hasFfmpeg, makeAudio } from "../fixtures/audio.ts";
import { startTestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";
import { waitForImports } from "../helpers/imports.ts";
import { runEntry } from "../helpers/processes.ts";
import { waitUntil } from "../helpers/wait.ts";

describe.skipIf(!hasFfmpeg())("npm run cli -- analyse", () => {
  it("runs a library's analysis of what is missing in the worker and follows it to the end", async () => {
    const app = await startTestApp({ worker: true });
    const dir = await mkdtemp(path.join(os.tmpdir(), "cli-analyse-"));
    try {
      const owner = new TestClient(app.url);
      await owner.signup("measurer");
      const library = (await owner.post("/api/v1/libraries", { name: "Meters" })).body.id;
      const file = await makeAudio(dir, { name: "tone", format: "flac", seconds: 2, tags: { TITLE: "Tone", ARTIST: "Gen" } });
      await owner.upload(`/api/v1/libraries/${library}/uploads`, [{ name: "tone.flac", data: await readFile(file) }]);
      await waitForImports(app.db.pool, library);
      await waitUntil(async () => (await app.db.pool.query("SELECT 1 FROM track_analysis")).rowCount || undefined, { timeout: 30_000 });
      // As if the track had never been analysed: the run finds it missing.
      expect((await app.db.pool.query("DELETE FROM track_analysis")).rowCount).toBe(1);

      const env = { DATABASE_URL: app.config.database.url!, MEDIA_DIR: app.config.mediaDir };
      const { code, output } = await runEntry(["cli.ts", "analyse", "--library", library, "--wait"], env);
      expect(output).toContain("Analysed 1 tracks (0 failed) with analyser");
      expect(output).toContain("1 of the library's 1 tracks have features");
      expect(code).toBe(0);
      expect((await app.db.pool.query("SELECT status FROM track_analysis")).rows).toEqual([{ status: "done" }]);

      const unknown = await runEntry(["cli.ts", "analyse", "--library", "00000000-0000-4000-8000-000000000000"], env);
      expect(unknown.code).toBe(1);
      expect(unknown.output).toContain("No library of this server");
    } finally {
      await app.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
