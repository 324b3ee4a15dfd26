import { getLogger } from "../../config/logging.ts";
import { Invalid } from "../errors.ts";
import type { SigningKey } from "./http-signatures.ts";
import { walkLibraryIndex } from "./library-index.ts";
import { type LibraryLookup, type LibraryPreview, summarize } from "./library-lookup.ts";
import { parseActorDocument, type RemoteActors } from "./remote-actors.ts";
import { fetchDocument, idOf, type JsonObject, RemoteDocumentError, stringOf } from "./remote-documents.ts";
import { OutboundRefused } from "./safe-fetch.ts";
import { pastedTargetUrl } from "./webfinger-lookup.ts";

const log = getLogger(["polyphony", "fediverse", "people"]);

// A person on another server as someone here sees them before following: their profile (name, bio,
// avatar, page) and what they share, read from the collections their Person actor links in `streams`
// (a Polyphony person's public Library and Playlist collections), or else from their server's public
// index of public libraries, those attributed to them (Funkwhale's /federation/index/libraries).
// Mastodon links neither: the profile then lists nothing.

/** Collections read per person (each costs a request to their server). */
const MAX_STREAMS = 20;
/** Pages of a server's library index read to find a person's (100 libraries a page on Funkwhale). */
const MAX_INDEX_PAGES = 5;

export interface PlaylistPreview {
  fid: string;
  name: string;
  summary: string | null;
  totalItems: number | null;
}

export interface RemoteProfile {
  fid: string;
  handle: string;
  name: string | null;
  /** The bio as plain text (it is HTML on the wire, which we do not render). */
  summary: string | null;
  avatar: string | null;
  url: string | null;
  libraries: LibraryPreview[];
  playlists: PlaylistPreview[];
}

const typesOf = (document: JsonObject) => [document.type].flat().filter((t): t is string => typeof t === "string");
const textOf = (html: string | null) =>
  html
    ?.replace(/<br\s*\/?>|<\/p>\s*<p>/gi, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&")
    .trim() || null;
const hrefOf = (value: unknown): string | null => {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first === "object" && first !== null) return idOf((first as JsonObject).href) ?? idOf((first as JsonObject).url) ?? null;
  return idOf(first);
};

/** Resolves a pasted handle or actor URL to a remote person's profile. Throws Invalid for input naming no person. */
export class PersonLookup {
  readonly #actors: RemoteActors;
  readonly #libraries: LibraryLookup;
  readonly #origin: URL;

  constructor(deps: { remoteActors: RemoteActors; libraryLookup: LibraryLookup; publicUrl: URL }) {
    this.#actors = deps.remoteActors;
    this.#libraries = deps.libraryLookup;
    this.#origin = deps.publicUrl;
  }

  async resolve(input: string, signer?: SigningKey): Promise<RemoteProfile> {
    try {
      const url = await this.#actorUrl(input.trim());
      const policy = this.#actors.policy;
      let document = await fetchDocument(url, { policy, signer, followAlternate: true });
      const fid = idOf(document.id);
      if (!fid) throw new RemoteDocumentError(url, 200, "the document has no id");
      if (new URL(fid).origin === this.#origin.origin) throw localPerson();
      if (fid !== url) document = await fetchDocument(fid, { policy, signer });
      if (idOf(document.id) !== fid) throw new RemoteDocumentError(fid, 200, "the document's id does not match its address");
      if (!typesOf(document).includes("Person")) throw new Invalid(`${fid} is not a person's account`, undefined, "not_a_person");
      const actor = await this.#actors.store(parseActorDocument(document, fid));
      const { libraries, playlists } = await this.#shared(fid, document, signer);
      return {
        fid,
        handle: summarize(actor).handle,
        name: actor.name,
        summary: textOf(stringOf(document.summary)),
        avatar: hrefOf(document.icon),
        url: hrefOf(document.url),
        libraries,
        playlists,
      };
    } catch (error) {
      throw asInputError(error);
    }
  }

  #actorUrl(input: string): Promise<string> {
    return pastedTargetUrl(input, { ownOrigin: this.#origin, policy: this.#actors.policy, hint: "a link to their profile", local: localPerson });
  }

  /** The libraries and playlists the person's `streams` link (on their own server); one that fails to load is left out. */
  async #shared(fid: string, document: JsonObject, signer?: SigningKey) {
    const origin = new URL(fid).origin;
    let streams = [document.streams ?? []].flat().map(idOf).filter((id): id is string => id !== null && new URL(id).origin === origin);
    if (!streams.length) streams = await indexedLibrariesOf(this.#actors, fid, signer);
    const libraries: LibraryPreview[] = [];
    const playlists: PlaylistPreview[] = [];
    for (const url of streams.slice(0, MAX_STREAMS)) {
      try {
        const stream = await fetchDocument(url, { policy: this.#actors.policy, signer });
        if (idOf(stream.id) !== url) continue;
        if (typesOf(stream).includes("Library")) {
          libraries.push((await this.#libraries.resolve(url, signer)).preview);
        } else if (typesOf(stream).includes("Playlist")) {
          const totalItems = Number.isSafeInteger(stream.totalItems) ? (stream.totalItems as number) : null;
          playlists.push({ fid: url, name: (stringOf(stream.name) ?? "Untitled playlist").slice(0, 200), summary: textOf(stringOf(stream.summary)), totalItems });
        }
      } catch (error) {
        log.debug("{person}'s collection {url} could not be read: {error}", { person: fid, url, error: String(error) });
      }
    }
    return { libraries, playlists };
  }
}

/**
 * The libraries attributed to the person in their server's public index (its NodeInfo names it), as
 * Funkwhale lists a person's public libraries; none when the server has no index or it cannot be read.
 */
async function indexedLibrariesOf(actors: RemoteActors, fid: string, signer?: SigningKey): Promise<string[]> {
  const host = new URL(fid).host;
  const found: string[] = [];
  try {
    const { librariesIndex } = await actors.domains.readNodeInfo(host);
    if (!librariesIndex) return [];
    const read = (url: string) => fetchDocument(url, { policy: actors.policy, signer });
    await walkLibraryIndex(librariesIndex, host, read, (item) => {
      const library = typeof item === "object" && item !== null ? (item as JsonObject) : null;
      const id = library ? idOf(library.id) : null;
      if (library && id && new URL(id).host === host && typesOf(library).includes("Library") && idOf(library.attributedTo) === fid) found.push(id);
      return found.length < MAX_STREAMS;
    }, MAX_INDEX_PAGES);
  } catch (error) {
    log.debug("The library index of {host} could not be read: {error}", { host, error: String(error) });
  }
  return found;
}

function localPerson(): Invalid {
  return new Invalid("This person is on this server: open their profile here instead", undefined, "local_person");
}

/** What the person typed was wrong: a 400. The remote server failing goes on as OutboundRefused / RemoteDocumentError (502-504). */
function asInputError(error: unknown): unknown {
  if (error instanceof OutboundRefused && ["bad-url", "bad-scheme", "private-address"].includes(error.reason)) {
    return new Invalid(`${error.url} cannot be looked up: ${error.detail}`, undefined, "invalid_target");
  }
  if (error instanceof RemoteDocumentError && (error.status === 404 || error.status === 410)) {
    return new Invalid(`Nobody at ${error.url} (the server answered ${error.status})`, undefined, "remote_not_found");
  }
  return error;
}
