// The npm `listenbrainz` package ships JavaScript only; the part of its API the tests use.
declare module "listenbrainz" {
  interface Track {
    artist_name: string;
    track_name: string;
    release_name?: string;
  }
  interface RateLimited<T> {
    rate_limit: { limit: number; remaining: number; reset: number; reset_in: number };
    data?: T;
  }
  export class Client {
    constructor(authorization?: string, baseUrl?: string);
    submitListen(data: { listen_type: "single" | "playing_now" | "import"; payload: { listened_at: number; track_metadata: Track }[] }): Promise<{ status: number } | undefined>;
    getUserListens(user: string): Promise<RateLimited<{ count: number; listens: Track[] }> | undefined>;
    getLatestImport(user: string): Promise<RateLimited<unknown> | undefined>;
  }
}
