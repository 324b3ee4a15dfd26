import type pg from "pg";
import type { User } from "../accounts/user.entity.ts";
import { type LocalProfile, localProfile } from "../accounts/profiles.ts";
import type { DomainPolicy } from "../moderation/domain-policy.ts";
import type { RateLimiter } from "../rate-limit/rate-limiter.ts";
import type { FollowState } from "./follows.queries.ts";
import { personActorOf } from "./follows.queries.ts";
import { type Following, type FollowsService, hostOfTarget, type PlaylistFollowing } from "./follows.service.ts";
import type { LibraryPreview } from "./library-lookup.ts";
import type { PersonLookup, RemoteProfile } from "./person-lookup.ts";
import { signingKeyOf } from "./remote-actors.ts";

/** A remote person's profile as the viewer sees it: each library with the viewer's follow of it. */
export type RemoteProfileView = Omit<RemoteProfile, "libraries"> & {
  libraries: (LibraryPreview & { follow: { id: string; state: FollowState } | null })[];
};

/**
 * People's profiles: ours (what they share with the people here) and those of people on other servers,
 * looked up by handle or URL. Following a person here means following their public libraries, each a
 * follow of its own (listed, and undone, like any other): their server knows no "person follow" of
 * a library owner, and a person's new libraries are found again on their profile.
 */
export class PeopleService {
  readonly #pool: pg.Pool;
  readonly #lookup: PersonLookup;
  readonly #follows: FollowsService;
  readonly #limiter: RateLimiter;
  readonly #host: string;
  readonly #policy: DomainPolicy | undefined;

  constructor(deps: { pool: pg.Pool; lookup: PersonLookup; follows: FollowsService; lookupLimiter: RateLimiter; publicUrl: URL; policy?: DomainPolicy }) {
    this.#pool = deps.pool;
    this.#lookup = deps.lookup;
    this.#follows = deps.follows;
    this.#limiter = deps.lookupLimiter;
    this.#host = deps.publicUrl.host;
    this.#policy = deps.policy;
  }

  /** One of our people, with their public and instance-wide libraries and playlists. */
  local(username: string): Promise<LocalProfile> {
    return localProfile(this.#pool, username, this.#host);
  }

  /** A person on another server, read now (signed as the viewer, as a library lookup is). */
  async remote(user: User, target: string): Promise<RemoteProfileView> {
    // The same budget as library lookups: each costs requests to another server.
    await this.#limiter.consume(`federation-lookup:${user.id}`);
    // Nobody on a server we do not federate with is looked up: 403, as for libraries.
    const host = hostOfTarget(target);
    if (host) await this.#policy?.check(host);
    const me = await personActorOf(this.#pool, user.id);
    const profile = await this.#lookup.resolve(target, me.rsaPrivateJwk ? signingKeyOf(me) : undefined);
    const { rows } = await this.#pool.query<{ fid: string; id: string; state: FollowState }>(
      `SELECT l.fid, f.id, f.state FROM follow f JOIN library l ON l.id = f.library_id JOIN app_user u ON u.actor_id = f.follower_id
       WHERE u.id = $1 AND l.fid = ANY($2::text[])`,
      [user.id, profile.libraries.map((l) => l.fid)],
    );
    const follows = new Map(rows.map((r) => [r.fid, { id: r.id, state: r.state }]));
    return { ...profile, libraries: profile.libraries.map((l) => ({ ...l, follow: follows.get(l.fid) ?? null })) };
  }

  /** Follows every public library the person shares that the viewer does not follow yet; returns the new follows. */
  async followLibraries(user: User, target: string): Promise<{ profile: RemoteProfileView; follows: (Following | PlaylistFollowing)[] }> {
    const profile = await this.remote(user, target);
    const follows: (Following | PlaylistFollowing)[] = [];
    const libraries = [];
    for (const library of profile.libraries) {
      if (library.privacy !== "public" || library.follow) {
        libraries.push(library);
        continue;
      }
      const follow = await this.#follows.follow(user, library.fid);
      follows.push(follow);
      libraries.push({ ...library, follow: { id: follow.id, state: follow.state } });
    }
    return { profile: { ...profile, libraries }, follows };
  }
}
