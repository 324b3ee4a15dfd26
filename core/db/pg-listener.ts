import pg from "pg";
import { getLogger } from "../../config/logging.ts";

const log = getLogger(["polyphony", "db", "listen"]);
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

export type NotificationHandler = (channel: string, payload: string) => void;

/**
 * One dedicated connection that LISTENs on a few channels (LISTEN needs a session of its own: a pooled
 * connection goes back to others). When the connection drops it reconnects with a growing delay;
 * notifications sent meanwhile are lost, which is acceptable for live hints (clients re-read on demand).
 */
export class PgListener {
  readonly #config: pg.ClientConfig;
  readonly #channels: string[];
  readonly #onNotification: NotificationHandler;
  #client: pg.Client | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelay = RETRY_MIN_MS;
  #closed = false;

  constructor(deps: { config: pg.ClientConfig; channels: string[]; onNotification: NotificationHandler }) {
    this.#config = deps.config;
    this.#channels = deps.channels;
    this.#onNotification = deps.onNotification;
  }

  /** Resolves after the first attempt; a failed one keeps retrying in the background. */
  async start(): Promise<void> {
    await this.#connect();
  }

  get connected(): boolean {
    return this.#client !== undefined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    // A silently dead peer (a failed-over database, a cut network) is noticed through TCP keepalive.
    const client = new pg.Client({ ...this.#config, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    client.on("notification", (message) => this.#onNotification(message.channel, message.payload ?? ""));
    client.on("error", (error) => this.#lost(client, error));
    client.on("end", () => this.#lost(client));
    try {
      await client.connect();
      for (const channel of this.#channels) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      this.#lost(client, error as Error);
      return;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#client = client;
    this.#retryDelay = RETRY_MIN_MS;
    log.debug("Listening on {channels}", { channels: this.#channels });
  }

  #lost(client: pg.Client, error?: Error): void {
    if (this.#closed || client.listenerCount("notification") === 0) return;
    // Each client is given up once, whichever of error/end/connect failure came first.
    client.removeAllListeners("notification");
    client.on("error", () => {});
    void client.end().catch(() => {});
    if (this.#client === client) this.#client = undefined;
    log.warning("LISTEN connection lost ({error}); reconnecting in {delay} ms", {
      error: error?.message ?? "closed by the server",
      delay: this.#retryDelay,
    });
    this.#retryTimer = setTimeout(() => void this.#connect(), this.#retryDelay);
    this.#retryDelay = Math.min(this.#retryDelay * 2, RETRY_MAX_MS);
  }
}
