import { createReadStream, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createInflateRaw } from "node:zlib";
import { Invalid, TooLarge } from "../errors.ts";

// ListenBrainz hands out its export as a zip: listens/<year>/<month>.jsonl beside feedback, pins and the
// user's profile. Its listens files are unpacked, in name order, into one JSON lines file that the import
// reads like any other. Read here rather than with a dependency: only stored and deflated entries of a
// plain (not zip64, not encrypted) archive, as ListenBrainz writes them.

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_DIRECTORY = 0x06054b50;
const LISTENS_FILE = /(^|\/)listens\/.*\.jsonl$/i;

/** Whether a file's first bytes (read as text) are a zip's. */
export const isZip = (head: string): boolean => head.startsWith("PK\u0003\u0004");

interface Entry {
  name: string;
  method: number;
  compressedSize: number;
  headerOffset: number;
}

const notAnExport = (why: string) =>
  new Invalid(`Not a ListenBrainz export zip (${why}): send the zip as ListenBrainz gave it, or its .jsonl files`, undefined, "unknown_listen_file");

/** Unpacks the listens of the export zip at `zipPath` into `outPath`, at most `maxBytes` of them; how many files. */
export async function unpackListenBrainzZip(zipPath: string, outPath: string, maxBytes: number): Promise<number> {
  const entries = (await centralDirectory(zipPath)).filter((e) => LISTENS_FILE.test(e.name)).sort((a, b) => a.name.localeCompare(b.name));
  if (!entries.length) throw notAnExport("no listens/*.jsonl in it");
  let written = 0;
  // Counts what is unpacked, so that a small zip cannot fill the disk (a zip bomb).
  const limit = () =>
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        if (written > maxBytes) done(new TooLarge(`The listens in this zip are over ${Math.round(maxBytes / 1024 / 1024)} MB`, "listen_file_too_large"));
        else done(null, chunk);
      },
    });
  const out = createWriteStream(outPath);
  try {
    for (const entry of entries) {
      const start = await dataOffset(zipPath, entry);
      const raw = createReadStream(zipPath, { start, end: start + entry.compressedSize - 1 });
      if (entry.method === 8) await pipeline(raw, createInflateRaw(), limit(), out, { end: false });
      else await pipeline(raw, limit(), out, { end: false });
      // Files need not end with a newline; the lines of the next one start on their own.
      out.write("\n");
    }
  } finally {
    await new Promise<void>((resolve) => out.end(resolve));
  }
  return entries.length;
}

async function centralDirectory(zipPath: string): Promise<Entry[]> {
  const file = await open(zipPath, "r");
  try {
    const { size } = await file.stat();
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = Buffer.alloc(tailLength);
    await file.read(tail, 0, tailLength, size - tailLength);
    let end = -1;
    for (let i = tailLength - 22; i >= 0; i--) if (tail.readUInt32LE(i) === END_OF_DIRECTORY) { end = i; break; }
    if (end < 0) throw notAnExport("its directory is missing: cut short?");
    const count = tail.readUInt16LE(end + 10);
    const directorySize = tail.readUInt32LE(end + 12);
    const directoryOffset = tail.readUInt32LE(end + 16);
    if (count === 0xffff || directoryOffset === 0xffffffff) throw notAnExport("zip64 archives are not read");
    if (directoryOffset + directorySize > size) throw notAnExport("its directory points past its end");
    const directory = Buffer.alloc(directorySize);
    await file.read(directory, 0, directorySize, directoryOffset);
    const entries: Entry[] = [];
    for (let at = 0, n = 0; n < count; n++) {
      if (at + 46 > directorySize || directory.readUInt32LE(at) !== CENTRAL_HEADER) throw notAnExport("its directory is damaged");
      const flags = directory.readUInt16LE(at + 8);
      const method = directory.readUInt16LE(at + 10);
      const nameLength = directory.readUInt16LE(at + 28);
      const entry = {
        name: directory.subarray(at + 46, at + 46 + nameLength).toString("utf8"),
        method,
        compressedSize: directory.readUInt32LE(at + 20),
        headerOffset: directory.readUInt32LE(at + 42),
      };
      if (LISTENS_FILE.test(entry.name)) {
        if (flags & 1) throw notAnExport("it is encrypted");
        if (method !== 0 && method !== 8) throw notAnExport(`${entry.name} is compressed in a way we do not read`);
        if (entry.headerOffset + 30 + entry.compressedSize > size) throw notAnExport(`${entry.name} runs past its end`);
      }
      entries.push(entry);
      at += 46 + nameLength + directory.readUInt16LE(at + 30) + directory.readUInt16LE(at + 32);
    }
    return entries;
  } finally {
    await file.close();
  }
}

/** Where an entry's bytes start: after its local header, whose name and extra field may differ in length from the directory's. */
async function dataOffset(zipPath: string, entry: Entry): Promise<number> {
  const file = await open(zipPath, "r");
  try {
    const header = Buffer.alloc(30);
    await file.read(header, 0, 30, entry.headerOffset);
    if (header.readUInt32LE(0) !== LOCAL_HEADER) throw notAnExport(`${entry.name} is damaged`);
    return entry.headerOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  } finally {
    await file.close();
  }
}
