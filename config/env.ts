import path from "node:path";
import { z } from "zod";

/** Raised when the environment cannot be turned into a config; the message names each bad variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: int(0, 65535).default(4000),
  HOST: z.string().min(1).default("0.0.0.0"),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  TRUST_PROXY: z.string().default("loopback"),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DB_POOL_SIZE: int(2, 200).default(10),
  EMBEDDED_DB_PORT: int(1, 65535).optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  MEDIA_DIR: z.string().min(1).optional(),
  WEB_DIR: z.string().min(1).optional(),
  REGISTRATION: z.enum(["open", "closed", "invite"]).default("open"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warning", "error", "fatal"]).default("info"),
  LOG_FORMAT: z.enum(["text", "json"]).default("text"),
  WORKER_CONCURRENCY: int(1, 64).default(2),
  ANALYSIS_CONCURRENCY: int(1, 64).default(1),
  ANALYSIS_TIME_LIMIT_SECONDS: int(1, 3600).default(60),
  JSON_BODY_LIMIT_KB: int(1, 10_240).default(256),
  HEAP_GROWTH_PERCENT: int(0, 1000).default(0),
  SESSION_TTL_DAYS: int(1, 3650).default(30),
  LOGIN_MAX_ATTEMPTS: int(1, 10_000).default(10),
  LOGIN_WINDOW_SECONDS: int(1, 86_400).default(900),
  SHUTDOWN_TIMEOUT_SECONDS: int(1, 600).default(30),
  FEDERATION_ALLOW_PRIVATE_ADDRESS: bool.default(false),
  FEDERATION_REQUESTS_PER_MINUTE: int(1, 1_000_000).default(1200),
  FEDERATION_MODE: z.enum(["open", "allowlist"]).default("open"),
  LISTENBRAINZ_REQUESTS_PER_10S: int(1, 1_000_000).default(300),
  LISTENBRAINZ_ANONYMOUS_REQUESTS_PER_10S: int(1, 1_000_000).default(60),
  LISTEN_IMPORT_MAX_MB: int(1, 4096).default(200),
  MAX_UPLOAD_MB: int(1, 1_048_576).default(2048),
  USER_QUOTA_MB: int(0, 1_073_741_824).default(0),
  MEDIA_SERVING: z.enum(["express", "nginx"]).default("express"),
  REMOTE_CACHE_MAX_MB: int(1, 1_073_741_824).default(10_240),
  REMOTE_MEDIA_TIMEOUT_SECONDS: int(1, 300).default(15),
  SECRET_KEY: z.string().min(32).optional(),
  FFMPEG_PATH: z.string().min(1).default("ffmpeg"),
  TRANSCODE_MAX_CONCURRENT: int(1, 256).default(4),
  // Punctuation only: a letter, digit or space would cut ordinary genre names apart.
  GENRE_SEPARATORS: z
    .string()
    .regex(/^[^\p{L}\p{N}\s]{1,16}$/u, "one to 16 punctuation characters, e.g. ; or ;/,")
    .default(";"),
});

export type Registration = "open" | "closed" | "invite";
export type LogLevel = z.infer<typeof envSchema>["LOG_LEVEL"];

export interface AppConfig {
  readonly env: "development" | "production" | "test";
  readonly http: {
    readonly port: number;
    readonly host: string;
    /** Origin every public URL is built from (ActivityPub ids, cookies' Secure flag). */
    readonly publicUrl: URL;
    readonly trustProxy: boolean | number | string;
    readonly jsonBodyLimitBytes: number;
    /** How far past its live size the web process's heap grows before a major GC (%); 0: V8 decides. */
    readonly heapGrowthPercent: number;
  };
  readonly database: {
    /** Unset: an embedded PostgreSQL runs under dataDir. */
    readonly url: string | undefined;
    readonly poolSize: number;
    /** Unset: 54329, or a free port when that one is taken. Set: that port or a start-up error. */
    readonly embeddedPort: number | undefined;
  };
  readonly dataDir: string;
  readonly mediaDir: string;
  readonly webDir: string;
  readonly registration: Registration;
  readonly log: { readonly level: LogLevel; readonly format: "text" | "json" };
  readonly worker: { readonly concurrency: number };
  /** Audio analysis jobs (issue 20): how many run at once across all workers, and each one's time limit. */
  readonly analysis: { readonly concurrency: number; readonly timeLimitMs: number };
  readonly auth: {
    readonly sessionTtlDays: number;
    readonly loginMaxAttempts: number;
    readonly loginWindowSeconds: number;
  };
  /** ListenBrainz API (/1/) requests per 10 s, per listen token's owner and per address without one; the largest listen file imported. */
  readonly listenBrainz: { readonly requestsPer10s: { readonly user: number; readonly address: number }; readonly importMaxBytes: number };
  readonly federation: {
    readonly allowPrivateAddress: boolean;
    /** Inbound federation requests a minute per remote domain and address (server/http/federation-rate-limit.ts). */
    readonly requestsPerMinute: number;
    /** `allowlist`: federate only with the domains an admin marked allowed (core/fediverse/domain-policy.ts). */
    readonly mode: "open" | "allowlist";
  };
  readonly media: {
    readonly maxUploadBytes: number;
    /** 0: no quota. */
    readonly userQuotaBytes: number;
    /** `nginx`: answer streams with X-Accel-Redirect and let nginx send the bytes. */
    readonly serving: "express" | "nginx";
    /** Characters that split one genre tag into several genres (repeated genre tags are always several). */
    readonly genreSeparators: string;
    /** The copies of remote audio under MEDIA_DIR/remote-cache: the least recently played go above this. */
    readonly remoteCacheMaxBytes: number;
    /** How long a first play of a remote track waits for its server to start answering. */
    readonly remoteTimeoutMs: number;
  };
  readonly transcoding: {
    /** A command name looked up in PATH, or an absolute path. Missing: streams send the original file. */
    readonly ffmpegPath: string;
    /** ffmpeg processes one web process runs at once; further transcodes get HTTP 429. */
    readonly maxConcurrent: number;
  };
  readonly shutdownTimeoutMs: number;
  /** Master secret for data encrypted at rest; unset: generated once into DATA_DIR/secret.key. */
  readonly secretKey: string | undefined;
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === "true" || value === "false") return value === "true";
  return /^\d+$/.test(value) ? Number(value) : value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !(value instanceof URL)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Parses the environment once into a frozen config; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // Empty strings mean "unset", as in most .env files.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === "production" && e.FEDERATION_ALLOW_PRIVATE_ADDRESS) {
    throw new ConfigError(
      "Invalid configuration:\n  FEDERATION_ALLOW_PRIVATE_ADDRESS: must not be true when NODE_ENV=production",
    );
  }
  const dataDir = path.resolve(e.DATA_DIR);
  const publicUrl = new URL(e.PUBLIC_URL ?? `http://localhost:${e.PORT}`);
  if (publicUrl.pathname !== "/" || publicUrl.search || publicUrl.hash) {
    throw new ConfigError("Invalid configuration:\n  PUBLIC_URL: must be an origin without a path, e.g. https://music.example.com");
  }
  return deepFreeze<AppConfig>({
    env: e.NODE_ENV,
    http: {
      port: e.PORT,
      host: e.HOST,
      publicUrl,
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
      jsonBodyLimitBytes: e.JSON_BODY_LIMIT_KB * 1024,
      heapGrowthPercent: e.HEAP_GROWTH_PERCENT,
    },
    database: { url: e.DATABASE_URL, poolSize: e.DB_POOL_SIZE, embeddedPort: e.EMBEDDED_DB_PORT },
    dataDir,
    mediaDir: path.resolve(e.MEDIA_DIR ?? path.join(dataDir, "media")),
    webDir: path.resolve(e.WEB_DIR ?? "web/dist"),
    registration: e.REGISTRATION,
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    worker: { concurrency: e.WORKER_CONCURRENCY },
    analysis: { concurrency: e.ANALYSIS_CONCURRENCY, timeLimitMs: e.ANALYSIS_TIME_LIMIT_SECONDS * 1000 },
    auth: {
      sessionTtlDays: e.SESSION_TTL_DAYS,
      loginMaxAttempts: e.LOGIN_MAX_ATTEMPTS,
      loginWindowSeconds: e.LOGIN_WINDOW_SECONDS,
    },
    listenBrainz: {
      requestsPer10s: { user: e.LISTENBRAINZ_REQUESTS_PER_10S, address: e.LISTENBRAINZ_ANONYMOUS_REQUESTS_PER_10S },
      importMaxBytes: e.LISTEN_IMPORT_MAX_MB * 1024 * 1024,
    },
    federation: { allowPrivateAddress: e.FEDERATION_ALLOW_PRIVATE_ADDRESS, requestsPerMinute: e.FEDERATION_REQUESTS_PER_MINUTE, mode: e.FEDERATION_MODE },
    media: {
      maxUploadBytes: e.MAX_UPLOAD_MB * 1024 * 1024,
      userQuotaBytes: e.USER_QUOTA_MB * 1024 * 1024,
      serving: e.MEDIA_SERVING,
      genreSeparators: e.GENRE_SEPARATORS,
      remoteCacheMaxBytes: e.REMOTE_CACHE_MAX_MB * 1024 * 1024,
      remoteTimeoutMs: e.REMOTE_MEDIA_TIMEOUT_SECONDS * 1000,
    },
    transcoding: { ffmpegPath: e.FFMPEG_PATH, maxConcurrent: e.TRANSCODE_MAX_CONCURRENT },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_SECONDS * 1000,
    secretKey: e.SECRET_KEY,
  });
}
