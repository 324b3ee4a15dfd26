import type { Registration } from "../../config/env.ts";
import type { Queryable } from "../jobs/enqueue.ts";

export const REGISTRATION_MODES = ["open", "closed", "invite"] as const satisfies readonly Registration[];

export interface InstanceSettingsValues {
  registration: Registration;
}

/**
 * Settings an administrator changes at run time, stored in `instance_setting` (migration 0008). A key
 * never set falls back to the environment's value. Nothing is cached: every web process sees a change
 * at its next read, and the readers (sign-up, the instance document) are rare enough.
 */
export class InstanceSettings {
  readonly #db: Queryable;
  readonly #defaults: InstanceSettingsValues;

  constructor(deps: { db: Queryable; defaults: InstanceSettingsValues }) {
    this.#db = deps.db;
    this.#defaults = deps.defaults;
  }

  async read(): Promise<InstanceSettingsValues> {
    const { rows } = await this.#db.query("SELECT key, value FROM instance_setting");
    const stored = Object.fromEntries((rows as { key: string; value: unknown }[]).map((r) => [r.key, r.value]));
    const registration = REGISTRATION_MODES.find((mode) => mode === stored.registration) ?? this.#defaults.registration;
    return { registration };
  }

  async registration(): Promise<Registration> {
    return (await this.read()).registration;
  }

  async update(changes: Partial<InstanceSettingsValues>): Promise<InstanceSettingsValues> {
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      await this.#db.query(
        `INSERT INTO instance_setting (key, value) VALUES ($1, $2::jsonb)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [key, JSON.stringify(value)],
      );
    }
    return this.read();
  }
}
