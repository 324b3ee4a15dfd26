// Reads the summary ffmpeg's ebur128 filter prints when it ends (EBU R128 / ITU-R BS.1770): integrated
// loudness, loudness range and, with peak=true, the true peak. The filter measures the whole stream in C with
// constant memory, so the summary covers the whole file however long it is.

export interface LoudnessSummary {
  /** Integrated loudness (LUFS); null when nothing rose above the -70 LUFS absolute gate (silence). */
  integratedLufs: number | null;
  /** Loudness range (LU); null with the integrated loudness. */
  rangeLu: number | null;
  /** True peak (dBTP, 4x oversampled); null for digital silence. */
  truePeakDbtp: number | null;
}

/** The gate below which ebur128 reports -70 LUFS: no programme loudness was measured. */
const ABSOLUTE_GATE_LUFS = -70;

/** The summary's numbers, or undefined when the text holds no summary (ffmpeg stopped before the end). */
export function parseLoudnessSummary(stderr: string): LoudnessSummary | undefined {
  const start = stderr.lastIndexOf("Summary:");
  if (start < 0) return undefined;
  const summary = stderr.slice(start);
  const integrated = numberAfter(summary, /\bI:\s*(-?[\d.]+|-?inf)\s*LUFS/);
  const range = numberAfter(summary, /\bLRA:\s*(-?[\d.]+|-?inf)\s*LU\b/);
  const peak = numberAfter(summary, /\bPeak:\s*(-?[\d.]+|-?inf)\s*dBFS/);
  if (integrated === undefined || range === undefined) return undefined;
  const silent = integrated === null || integrated <= ABSOLUTE_GATE_LUFS;
  return {
    integratedLufs: silent ? null : integrated,
    rangeLu: silent ? null : range,
    truePeakDbtp: peak === undefined || peak === null ? null : peak,
  };
}

/** The number the pattern captures: null for -inf (ffmpeg's word for no signal), undefined when absent. */
function numberAfter(text: string, pattern: RegExp): number | null | undefined {
  const match = pattern.exec(text);
  if (!match?.[1]) return undefined;
  if (match[1].endsWith("inf")) return null;
  const value = Number(match[1]);
  return Number.isFinite(value) ? value : undefined;
}
