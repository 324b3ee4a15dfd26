import { z } from "zod";
import { INSTANCE_ACTOR } from "./actor-urls.ts";

/** Names people cannot take: they clash with our own actors or read as official. */
const RESERVED = new Set([INSTANCE_ACTOR, "admin", "administrator", "root", "system", "polyphony", "support", "actor"]);

/** Usernames are case-insensitive: stored lower-case, letters, digits and underscores, 1-30 characters. */
export const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9_]{1,30}$/, "Use 1 to 30 letters, digits or underscores")
  .refine((name) => !RESERVED.has(name), "This username is reserved");

export const emailSchema = z.email().trim().toLowerCase().max(254);

/** Long passphrases welcome; the upper bound only stops abuse of the hash function. */
export const passwordSchema = z.string().min(10, "Use at least 10 characters").max(1024);
