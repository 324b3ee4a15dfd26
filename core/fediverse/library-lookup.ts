import { Invalid } from "../errors.ts";
import type { SigningKey } from "./http-signatures.ts";
import { type KnownActor, parseActorDocument, type RemoteActors } from "./remote-actors.ts";
import { fetchDocument, idOf, type JsonObject, RemoteDocumentError, stringOf } from "./remote-documents.ts";
import { OutboundRefused } from "./safe-fetch.ts";
import { pastedTargetUrl } from "./webfinger-lookup.ts";

// What a person pastes to follow a library on another server (a handle, an actor's URL, the Library
// document's URL or the library's web page), resolved to the Library collection and the actor that
// speaks for it (its attributedTo: a Polyphony library's own actor, a Funkwhale library's owner).

const PUBLIC = new Set(["https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public", "everyone"]);
const ACTOR_TYPES = new Set(["Person", "Service", "Application", "Group", "Organization"]);

export interface ActorSummary {
  fid: string;
  name: string | null;
  /** `@username@domain`. */
  handle: string;
}

/** A remote library as a person sees it before following it. */
export interface LibraryPreview {
  /** What is followed: a library (the default), or a playlist (a Funkwhale 2.0 `Playlist` collection). */
  kind?: "library" | "playlist";
  /** The Library collection's id (a playlist's: the Playlist's): what a Follow names. */
  fid: string;
  name: string;
  summary: string | null;
  /** Null when the collection could not be read (a private library shows its count to followers only). */
  totalItems: number | null;
  privacy: "public" | "restricted";
  /** The actor that speaks for the library: Follow goes to it, Accept and Reject come from it. */
  actor: ActorSummary;
  /** The person it belongs to, when the documents say. */
  owner: ActorSummary | null;
}

export interface ResolvedLibrary {
  preview: LibraryPreview;
  speaker: KnownActor;
}

export const summarize = (actor: Pick<KnownActor, "fid" | "name" | "username" | "domain">): ActorSummary => ({
  fid: actor.fid,
  name: actor.name,
  handle: `@${actor.username}@${actor.domain}`,
});


/** Resolves pasted handles and URLs to remote libraries. Throws Invalid for input no library answers to. */
export class LibraryLookup {
  readonly #actors: RemoteActors;
  readonly #origin: URL;

  constructor(deps: { remoteActors: RemoteActors; publicUrl: URL }) {
    this.#actors = deps.remoteActors;
    this.#origin = deps.publicUrl;
  }

  /** The library `input` names; `signer` signs the fetches (the person asking, as Funkwhale does). */
  async resolve(input: string, signer?: SigningKey): Promise<ResolvedLibrary> {
    try {
      const url = await this.#documentUrl(input.trim());
      return await this.#fromDocument(url, signer);
    } catch (error) {
      throw asInputError(error);
    }
  }

  /** Where the pasted text points: a URL as it is, a handle through WebFinger. */
  #documentUrl(input: string): Promise<string> {
    return pastedTargetUrl(input, { ownOrigin: this.#origin, policy: this.#actors.policy, hint: "a link to the library", local: localLibrary });
  }

  #refuseLocal(url: URL): void {
    if (url.origin === this.#origin.origin) throw localLibrary();
  }

  async #fromDocument(url: string, signer: SigningKey | undefined): Promise<ResolvedLibrary> {
    let document = await fetchDocument(url, { policy: this.#actors.policy, signer, followAlternate: true });
    const fid = idOf(document.id);
    if (!fid) throw new RemoteDocumentError(url, 200, "the document has no id");
    this.#refuseLocal(new URL(fid));
    // A page's alternate, or a document claiming another id: only the id's own server is believed.
    if (fid !== url) {
      document = await fetchDocument(fid, { policy: this.#actors.policy, signer });
      if (idOf(document.id) !== fid) throw new RemoteDocumentError(fid, 200, "the document's id does not match its address");
    }
    if (typesOf(document).includes("Library")) return this.#fromLibrary(fid, document, signer);
    if (typesOf(document).includes("Playlist")) return this.#fromLibrary(fid, document, signer, undefined, "playlist");
    if (typesOf(document).some((type) => ACTOR_TYPES.has(type))) return this.#fromActor(fid, document, signer);
    throw new Invalid(`${fid} is neither a library nor the account of one`, undefined, "not_a_library");
  }

  /** An actor document: a Polyphony library's actor links its Library collection in `streams`. */
  async #fromActor(fid: string, document: JsonObject, signer: SigningKey | undefined): Promise<ResolvedLibrary> {
    const speaker = await this.#actors.store(parseActorDocument(document, fid));
    // A person's streams list what they share (their profile, person-lookup.ts), not one library they speak for.
    const streams = typesOf(document).includes("Person") ? [] : [document.streams ?? []].flat();
    const libraryFid = streams.map(idOf).find((id): id is string => id !== null && new URL(id).origin === new URL(fid).origin);
    if (!libraryFid) {
      throw new Invalid(`${summarize(speaker).handle} is an account, not a library: paste the library's own link`, undefined, "not_a_library");
    }
    let library: JsonObject;
    try {
      library = await fetchDocument(libraryFid, { policy: this.#actors.policy, signer });
    } catch (error) {
      // A private library's collection answers its accepted followers only; its actor still says enough.
      if (error instanceof RemoteDocumentError && [401, 403, 404, 410].includes(error.status ?? 0)) {
        const preview = { fid: libraryFid, name: speaker.name ?? speaker.username, summary: stringOf(document.summary), totalItems: null };
        return { preview: { ...preview, privacy: "restricted", actor: summarize(speaker), owner: await this.#ownerOf(speaker, document) }, speaker };
      }
      throw error;
    }
    const kind = typesOf(library).includes("Playlist") ? "playlist" : "library";
    if (idOf(library.id) !== libraryFid || !(kind === "playlist" || typesOf(library).includes("Library"))) {
      throw new RemoteDocumentError(libraryFid, 200, "the actor's library link leads to no library");
    }
    return this.#fromLibrary(libraryFid, library, signer, { speaker, document }, kind);
  }

  async #fromLibrary(
    fid: string,
    library: JsonObject,
    signer: SigningKey | undefined,
    known?: { speaker: KnownActor; document: JsonObject },
    kind: "library" | "playlist" = "library",
  ): Promise<ResolvedLibrary> {
    const speakerFid = idOf(library.attributedTo) ?? idOf(library.actor);
    if (!speakerFid) throw new RemoteDocumentError(fid, 200, "the library names no actor (attributedTo)");
    // The actor speaking for a library lives on the library's server: it answers for it.
    if (new URL(speakerFid).origin !== new URL(fid).origin) throw new RemoteDocumentError(fid, 200, "the library's actor is on another server");
    let speaker = known?.speaker.fid === speakerFid ? known.speaker : null;
    let actorDocument = known?.document ?? null;
    if (!speaker) {
      actorDocument = await fetchDocument(speakerFid, { policy: this.#actors.policy, signer });
      speaker = await this.#actors.store(parseActorDocument(actorDocument, speakerFid));
    }
    const totalItems = Number.isSafeInteger(library.totalItems) && (library.totalItems as number) >= 0 ? (library.totalItems as number) : null;
    const audience = Array.isArray(library.audience) ? library.audience : [library.audience];
    const preview: LibraryPreview = {
      ...(kind === "playlist" ? { kind } : {}),
      fid,
      name: (stringOf(library.name) ?? speaker.name ?? "Untitled library").slice(0, 200),
      summary: stringOf(library.summary),
      totalItems,
      // A Funkwhale 2.0 playlist says "everyone" where a library says Public.
      privacy: audience.some((a) => PUBLIC.has(idOf(a) ?? stringOf(a) ?? "")) ? "public" : "restricted",
      actor: summarize(speaker),
      owner: await this.#ownerOf(speaker, actorDocument),
    };
    return { preview, speaker };
  }

  /** A person speaks for their own libraries (Funkwhale); a library's actor names its owner in attributedTo. */
  async #ownerOf(speaker: KnownActor, document: JsonObject | null): Promise<ActorSummary | null> {
    if (speaker.type === "Person") return summarize(speaker);
    const ownerFid = document ? idOf(document.attributedTo) : null;
    if (!ownerFid || new URL(ownerFid).origin !== new URL(speaker.fid).origin) return null;
    try {
      return summarize(await this.#actors.resolve(ownerFid));
    } catch {
      return null; // the owner is a nicety of the preview, not a reason to fail it
    }
  }
}

function typesOf(document: JsonObject): string[] {
  const type = document.type;
  return (Array.isArray(type) ? type : [type]).filter((t): t is string => typeof t === "string");
}

function localLibrary(): Invalid {
  return new Invalid("This library is on this server: open it from your libraries instead of following it", undefined, "local_library");
}

/**
 * What the person typed was wrong, rather than the remote server: a 400 naming it. Other failures
 * (unreachable, timeouts, unusable answers) go on as OutboundRefused / RemoteDocumentError (502-504).
 */
function asInputError(error: unknown): unknown {
  if (error instanceof OutboundRefused && ["bad-url", "bad-scheme", "private-address"].includes(error.reason)) {
    return new Invalid(`${error.url} cannot be followed: ${error.detail}`, undefined, "invalid_target");
  }
  if (error instanceof RemoteDocumentError && (error.status === 404 || error.status === 410)) {
    return new Invalid(`Nothing to follow at ${error.url} (the server answered ${error.status})`, undefined, "remote_not_found");
  }
  return error;
}
