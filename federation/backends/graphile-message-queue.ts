import type {
  MessageQueue,
  MessageQueueDepth,
  MessageQueueEnqueueOptions,
  MessageQueueListenOptions,
} from "@fedify/fedify";
import type pg from "pg";
import { enqueueJob } from "../../core/jobs/enqueue.ts";

/** The graphile-worker task that runs Fedify's queued messages (registered by workers/). */
export const FEDIFY_TASK = "fedify";
/** Ordering keys map onto a fixed set of graphile queues: same key, same queue, so order holds. */
const ORDERING_BUCKETS = 32;

function bucketOf(key: string): string {
  let hash = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return `fedify:${hash % ORDERING_BUCKETS}`;
}

/**
 * Fedify's MessageQueue on graphile-worker. Messages become `fedify` jobs; the worker process runs them
 * with `federation.processQueuedTask`, so `listen()` is never the consumer here. Fedify keeps its own
 * retry policy (nativeRetrial false); graphile's few attempts only cover a worker crash mid-task.
 */
export class GraphileMessageQueue implements MessageQueue {
  readonly nativeRetrial = false;
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    const delayMs = options?.delay?.total("millisecond") ?? 0;
    await enqueueJob(this.#pool, FEDIFY_TASK, message, {
      runAt: delayMs > 0 ? new Date(Date.now() + delayMs) : undefined,
      queueName: options?.orderingKey ? bucketOf(options.orderingKey) : undefined,
      maxAttempts: 3,
    });
  }

  async enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    for (const message of messages) await this.enqueue(message, options);
  }

  /** Consumption happens in the worker's `fedify` task; this only waits for the abort signal. */
  listen(_handler: (message: unknown) => Promise<void> | void, options?: MessageQueueListenOptions): Promise<void> {
    return new Promise((resolve) => {
      if (!options?.signal || options.signal.aborted) return resolve();
      options.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  async getDepth(): Promise<MessageQueueDepth> {
    const { rows } = await this.#pool.query<{ ready: number; delayed: number }>(
      `SELECT count(*) FILTER (WHERE run_at <= now())::int AS ready,
              count(*) FILTER (WHERE run_at > now())::int AS delayed
       FROM graphile_worker.jobs
       WHERE task_identifier = $1 AND locked_at IS NULL AND attempts < max_attempts`,
      [FEDIFY_TASK],
    );
    const { ready = 0, delayed = 0 } = rows[0] ?? {};
    return { queued: ready + delayed, ready, delayed };
  }
}
