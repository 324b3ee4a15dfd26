/**
 * Where local actors live. federation/ registers its dispatchers on these same paths, and core stores
 * the resulting URLs as the actors' ids, so both sides read them from here.
 */
export const ACTOR_PATH = "/actors/{identifier}";
export const INBOX_PATH = "/actors/{identifier}/inbox";
export const SHARED_INBOX_PATH = "/inbox";
export const OUTBOX_PATH = "/actors/{identifier}/outbox";
export const FOLLOWERS_PATH = "/actors/{identifier}/followers";

/** The instance's own Service actor, which signs fetches. Its name is reserved for people. */
export const INSTANCE_ACTOR = "instance";

export interface LocalActorUrls {
  fid: string;
  inboxUrl: string;
  sharedInboxUrl: string;
  outboxUrl: string;
  followersUrl: string;
}

export function localActorUrls(origin: URL, identifier: string): LocalActorUrls {
  const at = (template: string) => new URL(template.replace("{identifier}", encodeURIComponent(identifier)), origin).href;
  return {
    fid: at(ACTOR_PATH),
    inboxUrl: at(INBOX_PATH),
    sharedInboxUrl: at(SHARED_INBOX_PATH),
    outboxUrl: at(OUTBOX_PATH),
    followersUrl: at(FOLLOWERS_PATH),
  };
}
