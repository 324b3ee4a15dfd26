import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../config/env.ts";

describe("loadConfig", () => {
  it("fills in defaults and freezes the result", () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(4000);
    expect(config.http.publicUrl.href).toBe("http://localhost:4000/");
    expect(config.database.url).toBeUndefined();
    expect(config.dataDir).toBe(path.resolve("data"));
    expect(config.mediaDir).toBe(path.resolve("data/media"));
    expect(config.registration).toBe("open");
    expect(config.log).toEqual({ level: "info", format: "text" });
    expect(config.http.heapGrowthPercent).toBe(0);
    expect(config.media.genreSeparators).toBe(";");
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
    expect(() => {
      (config as { registration: string }).registration = "closed";
    }).toThrow(TypeError);
  });

  it("reads every variable it documents", () => {
    const config = loadConfig({
      PUBLIC_URL: "https://music.example.com",
      PORT: "8080",
      DATABASE_URL: "postgres://u:p@db:5432/polyphony",
      DATA_DIR: "/srv/data",
      MEDIA_DIR: "/srv/media",
      REGISTRATION: "invite",
      LOG_LEVEL: "debug",
      LOG_FORMAT: "json",
      WORKER_CONCURRENCY: "4",
      TRUST_PROXY: "2",
      SESSION_TTL_DAYS: "7",
      HEAP_GROWTH_PERCENT: "300",
      GENRE_SEPARATORS: ";/",
    });
    expect(config.http.publicUrl.origin).toBe("https://music.example.com");
    expect(config.http.port).toBe(8080);
    expect(config.database.url).toBe("postgres://u:p@db:5432/polyphony");
    expect(config.mediaDir).toBe("/srv/media");
    expect(config.registration).toBe("invite");
    expect(config.log).toEqual({ level: "debug", format: "json" });
    expect(config.worker.concurrency).toBe(4);
    expect(config.http.trustProxy).toBe(2);
    expect(config.auth.sessionTtlDays).toBe(7);
    expect(config.http.heapGrowthPercent).toBe(300);
    expect(config.media.genreSeparators).toBe(";/");
  });

  it("names every bad variable in one message", () => {
    let error: unknown;
    try {
      loadConfig({ PORT: "eighty", REGISTRATION: "maybe", DATABASE_URL: "mysql://x", HEAP_GROWTH_PERCENT: "-5", GENRE_SEPARATORS: "; and" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Invalid configuration:/);
    expect(message).toContain("PORT:");
    expect(message).toContain("REGISTRATION:");
    expect(message).toContain("DATABASE_URL:");
    expect(message).toContain("HEAP_GROWTH_PERCENT:");
    expect(message).toContain("GENRE_SEPARATORS: one to 16 punctuation characters");
  });

  it("rejects a public URL with a path, and dev-only switches in production", () => {
    expect(() => loadConfig({ PUBLIC_URL: "https://example.com/music" })).toThrow(/PUBLIC_URL: must be an origin/);
    expect(() => loadConfig({ NODE_ENV: "production", FEDERATION_ALLOW_PRIVATE_ADDRESS: "true" })).toThrow(
      /FEDERATION_ALLOW_PRIVATE_ADDRESS/,
    );
  });

  it("treats empty values as unset", () => {
    expect(loadConfig({ DATABASE_URL: "", PORT: "" }).http.port).toBe(4000);
  });
});
