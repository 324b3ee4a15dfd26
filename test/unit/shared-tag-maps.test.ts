import { describe, expect, it } from "vitest";
import { musicMetadataModule } from "../../core/media/music-metadata-internals.ts";
import { useSharedTagMaps } from "../../core/media/shared-tag-maps.ts";

interface Mapper {
  tagMap: Record<string, string>;
  getCommonName(tag: string): string | undefined;
}

async function mapperClass(file: string, name: string): Promise<new () => Mapper> {
  return (await musicMetadataModule(file))[name] as new () => Mapper;
}

describe("music-metadata's tag tables, shared between parses", () => {
  it("are upper-cased once per table, and name tags in any case as before", async () => {
    // All five case-insensitive mappers are re-parented (each checked against the original first).
    expect(await useSharedTagMaps()).toBe(5);
    const MP4TagMapper = await mapperClass("mp4/MP4TagMapper.js", "MP4TagMapper");
    const ID3v24TagMapper = await mapperClass("id3v2/ID3v24TagMapper.js", "ID3v24TagMapper");
    // One table for every parse: no copy a file.
    expect(new MP4TagMapper().tagMap).toBe(new MP4TagMapper().tagMap);
    expect(new ID3v24TagMapper().tagMap).toBe(new ID3v24TagMapper().tagMap);
    expect(new ID3v24TagMapper().getCommonName("TPE1")).toBe("artist");
    expect(new ID3v24TagMapper().getCommonName("tpe1")).toBe("artist");
    expect(new MP4TagMapper().getCommonName("©ART")).toBe("artist");
    expect(new MP4TagMapper().getCommonName("----:com.apple.iTunes:MusicBrainz Album Id")).toBe("musicbrainz_albumid");
  });
});
