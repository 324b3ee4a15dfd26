export interface TestResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export const PASSWORD = "correct horse battery";

/** A tiny HTTP client with a cookie jar and the CSRF header, like the web UI. */
export class TestClient {
  readonly baseUrl: string;
  cookie: string | undefined;
  csrfToken: string | undefined;
  bearer: string | undefined;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async request<T = any>(
    method: string,
    path: string,
    options: { json?: unknown; body?: string | FormData; headers?: Record<string, string> } = {},
  ): Promise<TestResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.json !== undefined) headers["content-type"] = "application/json";
    if (this.cookie) headers.cookie = this.cookie;
    if (this.csrfToken && method !== "GET") headers["x-csrf-token"] ??= this.csrfToken;
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
      redirect: "manual",
    });
    const setCookie = response.headers.getSetCookie().find((c) => /^polyphony_session(_\d+)?=/.test(c));
    if (setCookie) {
      const value = setCookie.split(";")[0]!;
      this.cookie = value.endsWith("=") ? undefined : value;
    }
    const text = await response.text();
    const type = response.headers.get("content-type") ?? "";
    const body = type.includes("json") && text ? JSON.parse(text) : text;
    if (body && typeof body === "object" && "csrfToken" in body) this.csrfToken = body.csrfToken as string;
    return { status: response.status, headers: response.headers, body };
  }

  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>("GET", path, { headers });
  }

  post<T = any>(path: string, json?: unknown) {
    return this.request<T>("POST", path, { json });
  }

  /** Multipart upload, as a browser's file input sends it. */
  upload<T = any>(path: string, files: { name: string; data: Uint8Array }[]) {
    const form = new FormData();
    for (const file of files) form.append("files", new Blob([new Uint8Array(file.data)]), file.name);
    return this.request<T>("POST", path, { body: form });
  }

  signup(username: string, extra: Record<string, unknown> = {}) {
    return this.post("/api/v1/auth/signup", { username, password: PASSWORD, ...extra });
  }

  login(username: string, password = PASSWORD) {
    return this.post("/api/v1/auth/login", { username, password });
  }
}
