import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SORTS } from "../../core/catalog/browse.queries.ts";
import { OPERATIONS } from "../../server/api/openapi.routes.ts";
import { startTestApp, TEST_ORIGIN, type TestApp } from "../helpers/app.ts";
import { TestClient } from "../helpers/client.ts";

let app: TestApp;
let client: TestClient;
let doc: any;
beforeAll(async () => {
  app = await startTestApp();
  const owner = new TestClient(app.url);
  await owner.signup("owner");
  client = new TestClient(app.url);
  client.bearer = (await owner.post("/api/v1/tokens", { name: "docs" })).body.token;
  doc = (await client.get("/api/v1/openapi.json")).body;
});
afterAll(() => app.close());

describe("OpenAPI document", () => {
  it("is OpenAPI 3.1 with the error shape and both ways to authenticate", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toEqual({ title: "Polyphony REST API", version: "0.1.0" });
    expect(doc.servers).toEqual([{ url: TEST_ORIGIN }]);
    expect(doc.components.schemas.Error.properties.error.required).toEqual(["code", "message"]);
    expect(Object.keys(doc.components.securitySchemes)).toEqual(["session", "token"]);
  });

  it("describes inputs with the same zod schemas the routes validate with", () => {
    const signup = doc.paths["/api/v1/auth/signup"].post.requestBody.content["application/json"].schema;
    expect(signup.required).toEqual(["username", "password"]);
    expect(signup.additionalProperties).toBe(false);
    expect(signup.properties.password.minLength).toBe(10);
    const tracks = doc.paths["/api/v1/tracks"].get.parameters;
    expect(tracks.find((p: { name: string }) => p.name === "sort").schema.enum).toEqual([...SORTS.tracks]);
    expect(tracks.find((p: { name: string }) => p.name === "limit").schema.maximum).toBe(500);
    const rating = doc.paths["/api/v1/ratings/{kind}/{id}"].put;
    expect(rating.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(["path:kind", "path:id"]);
    expect(rating.requestBody.content["application/json"].schema.properties.rating).toMatchObject({ minimum: 1, maximum: 5 });
    expect(rating.security).toEqual([{ session: [] }, { token: [] }]);
  });

  it("documents only routes that exist, and every route it lists answers", async () => {
    for (const op of OPERATIONS) {
      // A live event stream never ends; test/api/events.test.ts opens it.
      if (op.path === "/events") continue;
      const path = op.path.replace(":kind", "tracks").replace(/:\w+/g, "00000000-0000-4000-8000-000000000000");
      const res = await client.request(op.method.toUpperCase(), `/api/v1${path}`, op.method === "get" ? {} : { json: {} });
      const missingRoute = typeof res.body === "object" && String(res.body?.error?.message).startsWith("No route for");
      expect([op.method, op.path, missingRoute]).toEqual([op.method, op.path, false]);
    }
  });

  it("renders on a docs page", async () => {
    const page = await client.get("/api/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.body).toContain("/api/v1/openapi.json");
  });
});
