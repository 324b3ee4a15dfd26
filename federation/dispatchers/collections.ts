import type { Federation } from "@fedify/fedify";
import { FOLLOWERS_PATH, OUTBOX_PATH } from "../../core/accounts/actor-urls.ts";

/**
 * Followers and outbox of local actors. Nothing can follow or be published yet, so both are empty;
 * they exist so actor documents link to real collections (Fedify checks the URIs against dispatchers).
 */
export function registerCollections(federation: Federation<void>): void {
  federation
    .setFollowersDispatcher(FOLLOWERS_PATH, () => ({ items: [] }))
    .setCounter(() => 0);
  federation
    .setOutboxDispatcher(OUTBOX_PATH, () => ({ items: [] }))
    .setCounter(() => 0);
}
