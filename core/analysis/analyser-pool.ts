/**
 * Several analysers behind one AudioAnalyser: one EssentiaAnalyser measures one file at a time (its one
 * thread), so a worker process running ANALYSIS_CONCURRENCY analysis jobs at once needs that many. Each
 * call goes to the member with the fewest calls in flight. All members are built alike: one version.
 */
import type { AudioAnalyser, TrackFeatures } from "./track-features.ts";

export interface ClosableAnalyser extends AudioAnalyser {
  close(): Promise<void>;
}

export class AnalyserPool implements ClosableAnalyser {
  readonly version: string;
  readonly #members: { analyser: ClosableAnalyser; inFlight: number }[];

  constructor(analysers: ClosableAnalyser[]) {
    if (!analysers.length) throw new Error("an analyser pool needs at least one analyser");
    this.version = analysers[0]!.version;
    this.#members = analysers.map((analyser) => ({ analyser, inFlight: 0 }));
  }

  analyse(path: string, options: { signal?: AbortSignal; timeLimitMs?: number }): Promise<TrackFeatures> {
    const member = this.#members.reduce((least, m) => (m.inFlight < least.inFlight ? m : least));
    member.inFlight++;
    return member.analyser.analyse(path, options).finally(() => member.inFlight--);
  }

  async close(): Promise<void> {
    await Promise.all(this.#members.map((m) => m.analyser.close()));
  }
}
