import { z } from "zod";
import { VERSION } from "../../config/version.ts";
import { sessionCookieName } from "./auth.ts";

/** One documented route; its schemas are the very ones the route validates with. */
export interface Operation {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** Express-style path under /api/v1, e.g. /libraries/:id. */
  path: string;
  summary: string;
  tag: string;
  /** Needs a session cookie or an API token. */
  auth?: boolean;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Description of the success response; the body shapes are described in the README. */
  returns?: string;
  status?: number;
}

const ERROR_SCHEMA = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" }, details: {} },
    },
  },
};

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

function parameters(op: Operation): object[] {
  const pathParams = [...op.path.matchAll(/:(\w+)/g)].map((m) => ({
    name: m[1],
    in: "path",
    required: true,
    schema: m[1] === "kind" ? { type: "string", enum: ["tracks", "albums", "artists"] } : { type: "string", format: "uuid" },
  }));
  const query = op.query ? jsonSchema(op.query) : { properties: {}, required: [] };
  const required = new Set((query.required as string[] | undefined) ?? []);
  const queryParams = Object.entries((query.properties as Record<string, object>) ?? {}).map(([name, schema]) => ({
    name,
    in: "query",
    required: required.has(name),
    schema,
  }));
  return [...pathParams, ...queryParams];
}

/** The OpenAPI 3.1 document (JSON Schema 2020-12 inside, as zod writes it). */
export function buildOpenApi(operations: Operation[], publicUrl: URL): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const op of operations) {
    const key = `/api/v1${op.path.replace(/:(\w+)/g, "{$1}")}`;
    paths[key] ??= {};
    paths[key][op.method] = {
      summary: op.summary,
      tags: [op.tag],
      ...(op.auth ? { security: [{ session: [] }, { token: [] }] } : {}),
      parameters: parameters(op),
      ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(op.body) } } } } : {}),
      responses: {
        [String(op.status ?? 200)]: { description: op.returns ?? "Success" },
        default: { description: "An error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Polyphony REST API", version: VERSION },
    servers: [{ url: publicUrl.origin }],
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: {
        session: { type: "apiKey", in: "cookie", name: sessionCookieName(publicUrl), description: "Writes also need X-CSRF-Token" },
        token: { type: "http", scheme: "bearer", description: "A personal API token (pp_...)" },
      },
    },
  };
}

/** A self-contained page that renders the document (no scripts from elsewhere). */
export const DOCS_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Polyphony API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1f;background:#fff}
@media (prefers-color-scheme:dark){body{color:#e8e8ee;background:#16161a}pre{background:#222228!important}}
h2{margin-top:2rem;border-bottom:1px solid #8884}details{margin:.4rem 0}summary{cursor:pointer}
code.m{display:inline-block;width:4.2rem;font-weight:700;text-transform:uppercase}pre{background:#f3f3f6;padding:.6rem;overflow:auto}</style>
</head><body><h1>Polyphony REST API</h1><p>Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>
<main id="ops">Loading…</main><script>
fetch("/api/v1/openapi.json").then(r=>r.json()).then(doc=>{const byTag={};
for(const [path,ops] of Object.entries(doc.paths))for(const [method,op] of Object.entries(ops))(byTag[op.tags[0]]??=[]).push({path,method,op});
const esc=s=>String(s).replace(/[&<>]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;"}[c]));
document.getElementById("ops").innerHTML=Object.entries(byTag).map(([tag,list])=>"<h2>"+esc(tag)+"</h2>"+list.map(({path,method,op})=>
"<details><summary><code class=m>"+method+"</code> <code>"+esc(path)+"</code> "+esc(op.summary)+(op.security?" 🔒":"")+"</summary>"+
(op.parameters.length?"<h4>Parameters</h4><pre>"+esc(JSON.stringify(op.parameters,null,2))+"</pre>":"")+
(op.requestBody?"<h4>Body</h4><pre>"+esc(JSON.stringify(op.requestBody.content["application/json"].schema,null,2))+"</pre>":"")+
"</details>").join("")).join("");});
</script></body></html>`;
