import { createHash, timingSafeEqual } from "node:crypto";
import { RateLimited } from "../../core/errors.ts";
import type { RateLimiter } from "../../core/rate-limit/rate-limiter.ts";
import type { SubsonicCredentialsService, SubsonicUser } from "../../core/subsonic/credentials.service.ts";
import type { FailedAttempts } from "./failed-attempts.ts";
import type { Params } from "./params.ts";
import { SubsonicError } from "./response.ts";

export interface SubsonicAuthDeps {
  credentials: SubsonicCredentialsService;
  /** Failed attempts per username (password/token) and per client address (all modes). */
  perUser: RateLimiter;
  perAddress: RateLimiter;
  /** This process's failures being counted: whether a success must re-read its lockouts. */
  failures: FailedAttempts;
}

const wrongCredentials = () => new SubsonicError(40, "Wrong username or password");

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `p` is either the password or `enc:` + its UTF-8 bytes in hex (obfuscation, not encryption). */
function decodePassword(p: string): string {
  if (!p.startsWith("enc:")) return p;
  const hex = p.slice(4);
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw wrongCredentials();
  return Buffer.from(hex, "hex").toString("utf8");
}

/** Who is calling: `u`+`p`, `u`+`t`+`s` (md5(password + salt)) or an OpenSubsonic `apiKey` (without `u`). */
export async function authenticateSubsonic(deps: SubsonicAuthDeps, params: Params, address: string): Promise<SubsonicUser> {
  params.required("v");
  params.required("c");
  const secrets = ["p", "t", "apiKey"].filter((name) => params.has(name));
  if (params.has("apiKey") && (params.has("u") || secrets.length > 1)) {
    throw new SubsonicError(43, "Send either apiKey, or u with p or t and s, not several");
  }
  if (secrets.length > 1) throw new SubsonicError(43, "Send either p, or t and s, not both");
  if (params.has("apiKey")) {
    await limited(() => deps.perAddress.check(`subsonic-addr:${address}`));
    return byApiKey(deps, params.required("apiKey"), address);
  }
  const username = params.required("u").toLowerCase();
  if (!secrets.length) throw new SubsonicError(10, "Required parameter 'p', or 't' and 's', is missing");
  // Both lockouts and the credentials in one statement: one query a request, where no guess is running.
  const lockouts = [deps.perAddress.lockout(`subsonic-addr:${address}`), deps.perUser.lockout(`subsonic:${username}`)];
  const mark = deps.failures.mark;
  const { lockedFor, failures, found } = await deps.credentials.byUsernameUnlessLocked(username, lockouts);
  if (lockedFor) throw lockedOut(lockedFor);
  if (!found?.password || found.user.disabled || !matches(params, found.password)) {
    throw await failed(deps, address, username, wrongCredentials());
  }
  // Guesses sent at once were all read above as not locked out. A failure counts itself atomically and
  // answers by its count; a success must still be within the budget once the guesses checked beside it
  // have counted theirs, or one right guess among hundreds sent together would get through. Without
  // failures in the window nor beside it in this process, there is nothing to re-read (failed-attempts.ts).
  if (failures > 0 || (await deps.failures.since(mark))) {
    const nowLockedFor = await deps.credentials.lockedFor(lockouts);
    if (nowLockedFor) throw lockedOut(nowLockedFor);
  }
  return found.user;
}

function matches(params: Params, password: string): boolean {
  if (params.has("p")) return same(decodePassword(params.get("p")!), password);
  const token = params.required("t").toLowerCase();
  const salt = params.required("s");
  return same(token, createHash("md5").update(password + salt, "utf8").digest("hex"));
}

async function byApiKey(deps: SubsonicAuthDeps, apiKey: string, address: string): Promise<SubsonicUser> {
  const user = await deps.credentials.byApiKey(apiKey);
  if (!user) throw await failed(deps, address, undefined, new SubsonicError(44, "Invalid API key"));
  if (user.disabled) throw wrongCredentials();
  return user;
}

/** Counts a failed attempt; the error to answer: `error`, or the lockout once the attempt is over the budget. */
async function failed(deps: SubsonicAuthDeps, address: string, username: string | undefined, error: SubsonicError): Promise<SubsonicError> {
  const counted = [deps.perAddress.consume(`subsonic-addr:${address}`)];
  if (username) counted.push(deps.perUser.consume(`subsonic:${username}`));
  const over = (await deps.failures.track(Promise.allSettled(counted))).find((c) => c.status === "rejected");
  if (!over) return error;
  if (over.reason instanceof RateLimited) return lockedOut(over.reason.retryAfterSeconds);
  throw over.reason;
}

const lockedOut = (seconds: number) => new SubsonicError(40, new RateLimited(seconds).message);

/** Subsonic has no "slow down" code: a locked-out client sees code 40 with the wait in the message. */
async function limited(check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (error) {
    if (error instanceof RateLimited) throw new SubsonicError(40, error.message);
    throw error;
  }
}
