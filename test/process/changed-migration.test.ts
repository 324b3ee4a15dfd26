import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "../helpers/database.ts";
import { runEntry } from "../helpers/processes.ts";

let env: Record<string, string>;
let drop: () => Promise<void>;
beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  env = { DATABASE_URL: database.url, HOST: "127.0.0.1" };
  // As if migrations/0005-search.sql had been edited after this database applied it.
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE name = '0005-search.sql'");
  await client.end();
});
afterAll(() => drop());

describe("an edited migration", () => {
  // (cli.ts prints every error's message alone, so `npm run cli -- migrate` says the same.)
  it("stops the server at start with one sentence naming the file", async () => {
    const { code, output } = await runEntry(["main.ts", "web"], env);
    expect(code).toBe(1);
    expect(output).toContain("Migration 0005-search.sql changed after it was applied to this database");
    expect(output).toContain("put the change in a new migration");
    expect(output).not.toMatch(/^\s+at /m);
    expect(output).not.toContain("Web server listening");
  });
});
