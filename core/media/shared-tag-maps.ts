/**
 * music-metadata 12 builds every format's tag mapper again for each file it parses (a MetadataCollector
 * makes a CombinedTagMapper), and six of them upper-case their whole tag table in their constructor: ~0.2 ms
 * of CPU and the garbage of six tables a file, the largest single cost of the tag-reader thread in a
 * realistic import (issue 19). The tables are module constants, so the upper-cased copy is made once per
 * table here and shared: each case-insensitive mapper class is re-parented (its `super(...)` call) onto a
 * constructor that does that. Checked against the original on every class at load, and left alone when the
 * package's layout ever changes.
 */
import { getLogger } from "../../config/logging.ts";
import { musicMetadataModule } from "./music-metadata-internals.ts";

const log = getLogger(["polyphony", "media"]);

type TagMap = Record<string, string>;
interface TagMapper {
  tagTypes: string[];
  tagMap: TagMap;
  getCommonName(tag: string): string | undefined;
}
type TagMapperClass = new (...args: never[]) => TagMapper;
type BaseClass = new (tagTypes: string[], tagMap: TagMap) => TagMapper;

/** music-metadata's case-insensitive mappers: module (under lib/) and class. */
const MAPPERS: [string, string][] = [
  ["id3v2/ID3v22TagMapper.js", "ID3v22TagMapper"],
  ["id3v2/ID3v24TagMapper.js", "ID3v24TagMapper"],
  ["mp4/MP4TagMapper.js", "MP4TagMapper"],
  ["apev2/APEv2TagMapper.js", "APEv2TagMapper"],
  ["matroska/MatroskaTagMapper.js", "MatroskaTagMapper"],
];

async function exported<T>(file: string, name: string): Promise<T | undefined> {
  return (await musicMetadataModule(file))[name] as T | undefined;
}

export async function useSharedTagMaps(): Promise<number> {
  try {
    const caseInsensitive = await exported<TagMapperClass>("common/CaseInsensitiveTagMap.js", "CaseInsensitiveTagMap");
    const common = await exported<BaseClass>("common/GenericTagMapper.js", "CommonTagMapper");
    if (typeof caseInsensitive !== "function" || typeof common !== "function") return 0;
    const upperCased = new WeakMap<TagMap, TagMap>();
    class SharedCaseInsensitiveTagMap extends common {
      constructor(tagTypes: string[], tagMap: TagMap) {
        let upper = upperCased.get(tagMap);
        if (!upper) {
          upper = Object.fromEntries(Object.entries(tagMap).map(([tag, name]) => [tag.toUpperCase(), name]));
          upperCased.set(tagMap, upper);
        }
        super(tagTypes, upper);
      }
    }
    let shared = 0;
    for (const [file, name] of MAPPERS) {
      const mapper = await exported<TagMapperClass>(file, name);
      if (typeof mapper !== "function" || Object.getPrototypeOf(mapper) !== caseInsensitive) continue;
      const before = describe(new mapper());
      Object.setPrototypeOf(mapper, SharedCaseInsensitiveTagMap);
      const after = describe(new mapper());
      if (after !== before || describe(new mapper()) !== before) {
        Object.setPrototypeOf(mapper, caseInsensitive);
        continue;
      }
      shared++;
    }
    return shared;
  } catch (error) {
    log.debug("Tag maps are built for every file: {error}", { error });
    return 0;
  }
}

/** A mapper as parsing sees it: its tag types, its table, and how it names a tag in any case. */
function describe(mapper: TagMapper): string {
  const tags = Object.keys(mapper.tagMap);
  const names = tags.flatMap((tag) => [mapper.getCommonName(tag), mapper.getCommonName(tag.toLowerCase())]);
  return JSON.stringify([mapper.constructor.name, mapper.tagTypes, mapper.tagMap, names]);
}
