import { getLogger } from "../../config/logging.ts";
import type { OutboundPolicy } from "../fediverse/safe-fetch.ts";
import { sendToTarget } from "./listen-relay-targets.ts";
import type { ListenRelayService, RelayJob, RelayNowPlayingJob } from "./listen-relay.service.ts";

const log = getLogger(["polyphony", "listens", "relay"]);

/** Thrown so graphile-worker tries the job again later (429, 5xx, unreachable). */
export class RelayRetryLater extends Error {
  override name = "RelayRetryLater";
}

/** Runs relay jobs queued with the listens (listen-relay.service.ts) against ListenBrainz or Last.fm. */
export class ListenRelayDelivery {
  readonly #relays: ListenRelayService;
  readonly #policy: OutboundPolicy;

  constructor(deps: { relays: ListenRelayService; policy: OutboundPolicy }) {
    this.#relays = deps.relays;
    this.#policy = deps.policy;
  }

  async deliver(job: RelayJob): Promise<void> {
    // Removed, or failing since the job was queued: its listens stay here only.
    const relay = await this.#relays.activeRelay(job.userId, job.target);
    if (!relay) return;
    const listens = await this.#relays.listens(job.userId, job.listenIds);
    if (!listens.length) return;
    const outcome = await sendToTarget(this.#policy, relay.baseUrl, relay.credentials, listens);
    if (outcome.kind === "delivered") return this.#relays.recordDelivered(job.userId, job.target, listens.length);
    await this.#relays.recordError(job.userId, job.target, outcome.reason, outcome.kind === "refused");
    if (outcome.kind === "retry") throw new RelayRetryLater(outcome.reason);
    log.warn("Relay of {count} listens to {target} not taken: {reason}", { count: listens.length, target: job.target, reason: outcome.reason });
  }

  /** Best effort: one try; only refused credentials are recorded (they stop the relay). */
  async nowPlaying(job: RelayNowPlayingJob): Promise<void> {
    const relay = await this.#relays.activeRelay(job.userId, job.target);
    if (!relay) return;
    const outcome = await sendToTarget(this.#policy, relay.baseUrl, relay.credentials, [job.listen], true);
    if (outcome.kind === "refused") await this.#relays.recordError(job.userId, job.target, outcome.reason, true);
    else if (outcome.kind !== "delivered") log.info("Now playing not relayed to {target}: {reason}", { target: job.target, reason: outcome.reason });
  }
}
