/**
 * ReplayGain from measured loudness (issue 20): ReplayGain 2.0 takes -18 LUFS (EBU R128 integrated
 * loudness) as its reference, so a track's gain is -18 minus its loudness, and its peak is the true peak
 * as a linear sample value. An album's loudness (album_loudness, computed in SQL by migration 0030's
 * refresh_album_loudness) is the duration-weighted power mean of its tracks'; its peak is its loudest track's.
 */

export const REPLAY_GAIN_REFERENCE_LUFS = -18;

export interface ReplayGain {
  trackGain?: number | null;
  trackPeak?: number | null;
  albumGain?: number | null;
  albumPeak?: number | null;
}

/** Loudness measured for a track or an album (track_analysis, album_loudness). */
export interface MeasuredLoudness {
  loudnessLufs: number | null;
  truePeakDbtp: number | null;
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export function gainOf(loudnessLufs: number | null): number | null {
  return loudnessLufs === null || !Number.isFinite(loudnessLufs) ? null : round(REPLAY_GAIN_REFERENCE_LUFS - loudnessLufs, 2);
}

export function peakOf(truePeakDbtp: number | null): number | null {
  return truePeakDbtp === null || !Number.isFinite(truePeakDbtp) ? null : round(10 ** (truePeakDbtp / 20), 6);
}

/**
 * The ReplayGain a listener gets: the file's tags where it has them, each missing value computed from the
 * measured loudness of the track and of its album. Null when there is neither.
 */
export function effectiveReplayGain(
  tagged: ReplayGain | null | undefined,
  track: MeasuredLoudness | null,
  album: MeasuredLoudness | null,
): ReplayGain | null {
  const pick = (tag: number | null | undefined, computed: number | null) => (typeof tag === "number" ? tag : computed);
  const gain: ReplayGain = {
    trackGain: pick(tagged?.trackGain, gainOf(track?.loudnessLufs ?? null)),
    trackPeak: pick(tagged?.trackPeak, peakOf(track?.truePeakDbtp ?? null)),
    albumGain: pick(tagged?.albumGain, gainOf(album?.loudnessLufs ?? null)),
    albumPeak: pick(tagged?.albumPeak, peakOf(album?.truePeakDbtp ?? null)),
  };
  return Object.values(gain).some((v) => v !== null) ? gain : null;
}
