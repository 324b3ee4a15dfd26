import type { ListenSource } from "./listening.entity.ts";

/**
 * A listen as any source reports it (the web player, Subsonic `scrobble`, ListenBrainz `/1/`, Last.fm
 * `/2.0/`, AudioScrobbler 1.2, an imported export): names always, ids and lengths when the source knows
 * them. One model for every source (issue 18 point 3): the sink matches it to a catalog track (MusicBrainz
 * recording id, then normalised names and duration), keeps it under its own names when nothing matches,
 * and drops it when the same person already has the same listen (same start, same normalised names).
 */
export interface SubmittedListen {
  /** When playback started. */
  listenedAt: Date;
  artistName: string;
  trackName: string;
  releaseName?: string | null;
  /** The track's length, when the source said. */
  durationMs?: number | null;
  recordingMbid?: string | null;
  releaseMbid?: string | null;
  releaseGroupMbid?: string | null;
  artistMbids?: string[];
  trackNumber?: number | null;
  /** The player or scrobbler that reported it (ListenBrainz `submission_client`, a Last.fm application's name, Subsonic `c`). */
  client?: string | null;
  /** How much was heard, when the source said (Subsonic players, the web player). */
  listenedMs?: number | null;
  /** ListenBrainz `additional_info` as sent (unknown keys kept), answered back unchanged. */
  additionalInfo?: Record<string, unknown> | null;
  /** A catalog track the source already knows (web player, Subsonic): no matching needed. */
  trackId?: string | null;
}

/** What a batch of submitted listens did. */
export interface ListenSubmissionResult {
  /** Listens kept (new). */
  accepted: number;
  /** Listens the person already had (a client resending): nothing changed. */
  duplicates: number;
}

/** Where every source's listens go. */
export interface ListenSink {
  submit(userId: string, listens: SubmittedListen[], source: ListenSource): Promise<ListenSubmissionResult>;
  /** What the person plays now, from any source; lapses after the track's duration. */
  playingNow(userId: string, listen: Omit<SubmittedListen, "listenedAt">, source: ListenSource): Promise<void>;
}
