// Funkwhale's JSON-LD context (https://funkwhale.audio/ns), as its pods ship it and never fetch it
// (funkwhale-federation.md §3.1): the 1.4 terms and 2.0's additions. Whether the URL dereferences is not
// guaranteed, so our loaders serve this copy and never ask the network.
//
// One deliberate difference: `duration` is mapped to a term of Funkwhale's own namespace. Funkwhale 1.4
// sends it as an integer of seconds, which Fedify's decoder of as:duration (an xsd:duration) cannot read,
// failing the whole document; Funkwhale's context comes after the ActivityStreams one in every document,
// so this mapping wins, Fedify leaves the value alone, and we read durations from the raw JSON
// (core/fediverse/remote-audio.ts).

export const FUNKWHALE_CONTEXT_URL = "https://funkwhale.audio/ns";

const fw = (term: string, extra: Record<string, string> = {}) => ({ "@id": `fw:${term}`, ...extra });
const integer = { "@type": "xsd:nonNegativeInteger" };
const reference = { "@type": "@id" };

export const FUNKWHALE_CONTEXT = {
  "@context": {
    fw: "https://funkwhale.audio/ns#",
    xsd: "http://www.w3.org/2001/XMLSchema#",
    schema: "http://schema.org#",
    Album: "fw:Album",
    Track: "fw:Track",
    Artist: "fw:Artist",
    Library: "fw:Library",
    ArtistCredit: "fw:ArtistCredit",
    Playlist: "fw:Playlist",
    PlaylistTrack: "fw:PlaylistTrack",
    AudioCollection: "fw:AudioCollection",
    bitrate: fw("bitrate", integer),
    size: fw("size", integer),
    position: fw("position", integer),
    disc: fw("disc", integer),
    index: fw("index", integer),
    duration: fw("duration"),
    library: fw("library", reference),
    track: fw("track", reference),
    album: fw("album", reference),
    artist: fw("artist", reference),
    playlist: fw("playlist", reference),
    cover: fw("cover", { "@type": "as:Link" }),
    artists: { "@id": "fw:artists", "@type": "@id", "@container": "@list" },
    artist_credit: { "@id": "fw:artist_credit", "@type": "@id", "@container": "@list" },
    released: fw("released", { "@type": "xsd:date" }),
    musicbrainzId: "fw:musicbrainzId",
    copyright: "fw:copyright",
    joinphrase: fw("joinphrase", { "@type": "xsd:string" }),
    credit: fw("credit", { "@type": "xsd:string" }),
    license: fw("license", reference),
    category: "schema:category",
    language: "schema:inLanguage",
  },
};
