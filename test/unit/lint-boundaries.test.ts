import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint();

async function importErrors(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return result!.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("dependency direction (eslint)", () => {
  it.each([
    ["core/accounts/x.ts", 'import express from "express";\nexport default express;'],
    ["core/accounts/x.ts", 'import { buildFederation } from "../../federation/index.ts";\nexport default buildFederation;'],
    ["config/x.ts", 'import { NotFound } from "../core/errors.ts";\nexport default NotFound;'],
    ["federation/x.ts", 'import { createApp } from "../server/app.ts";\nexport default createApp;'],
    ["server/x.ts", 'import { startWorker } from "../workers/main.ts";\nexport default startWorker;'],
    ["workers/x.ts", 'import { createApp } from "../server/app.ts";\nexport default createApp;'],
    ["server/x.ts", 'import { startTestApp } from "../test/helpers/app.ts";\nexport default startTestApp;'],
  ])("forbids %s importing upward: %s", async (file, source) => {
    expect(await importErrors(file, source)).toHaveLength(1);
  });

  it.each([
    ["core/accounts/x.ts", 'import { loadConfig } from "../../config/env.ts";\nexport default loadConfig;'],
    ["federation/x.ts", 'import { NotFound } from "../core/errors.ts";\nexport default NotFound;'],
    ["server/x.ts", 'import { buildFederation } from "../federation/index.ts";\nexport default buildFederation;'],
    ["workers/x.ts", 'import { buildFederation } from "../federation/index.ts";\nexport default buildFederation;'],
  ])("allows %s importing downward: %s", async (file, source) => {
    expect(await importErrors(file, source)).toEqual([]);
  });

  it("keeps process.env out of everything but config/", async () => {
    const [result] = await eslint.lintText("export const port = process.env.PORT;\n", { filePath: "core/x.ts" });
    expect(result!.messages.map((m) => m.ruleId)).toContain("no-restricted-syntax");
  });
});
