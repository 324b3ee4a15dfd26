import type { Task } from "graphile-worker";
import type { ListenRelayDelivery } from "../../core/listens/listen-relay-delivery.ts";
import type { RelayJob, RelayNowPlayingJob } from "../../core/listens/listen-relay.service.ts";

/** Relays a batch of listens to ListenBrainz or Last.fm; a thrown error means graphile-worker retries it later. */
export function relayListensTask(delivery: ListenRelayDelivery): Task {
  return (payload) => delivery.deliver(payload as RelayJob);
}

/** Relays a now-playing report: one try. */
export function relayNowPlayingTask(delivery: ListenRelayDelivery): Task {
  return (payload) => delivery.nowPlaying(payload as RelayNowPlayingJob);
}
