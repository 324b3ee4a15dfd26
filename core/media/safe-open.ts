/**
 * The folder boundary: every reader of a music folder's or MEDIA_DIR's files (scanner, tag reader, covers,
 * lyrics, streams, transcodes) opens them here. A file is read only when it is a regular file whose real
 * path lies inside the root, and only through the descriptor that was checked, so swapping a name for a
 * symlink between the check and the read changes nothing. FIFOs and devices are opened without blocking
 * (O_NONBLOCK) and refused, so a FIFO named `song.lrc` or `cover.jpg` never parks a libuv thread.
 */
import { constants } from "node:fs";
import { open, readlink, realpath, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { getLogger } from "../../config/logging.ts";

const log = getLogger(["polyphony", "media", "files"]);

export type RefusalCode = "missing" | "not_a_file" | "outside_folder" | "too_large" | "unreadable";

const REASONS: Record<RefusalCode, string> = {
  missing: "it does not exist",
  not_a_file: "it is not a regular file (a folder, a FIFO or a device)",
  outside_folder: "it leads outside its folder (a symbolic link to elsewhere)",
  too_large: "it is larger than such a file may be",
  unreadable: "it cannot be read",
};

/** Why a file was not opened; `message` names the file's base name only. */
export class RefusedFile extends Error {
  override name = "RefusedFile";
  readonly code: RefusalCode;
  /** The system's error code, when the system refused. */
  readonly errno: string | undefined;
  /** The file's size, when it was refused for it. */
  readonly size: number | undefined;
  constructor(code: RefusalCode, file: string, detail: { errno?: string; size?: number } = {}) {
    super(`${path.basename(file)}: ${REASONS[code]}`);
    this.code = code;
    this.errno = detail.errno;
    this.size = detail.size;
  }
}

export interface OpenFile {
  /** Read from this, never from the name again. The caller closes it. */
  handle: FileHandle;
  size: number;
  mtime: Date;
  /** The path without symbolic links, inside `realRoot`. */
  realPath: string;
  /** The root's path without symbolic links. */
  realRoot: string;
}

// O_NONBLOCK makes opening a FIFO return at once (regular files ignore it); O_NOCTTY keeps a terminal
// device from becoming ours.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * Opens `file` for reading when it is a regular file (after symlinks) whose real path is inside `root`
 * (`maxBytes`: and no larger). Throws RefusedFile otherwise; never blocks on a FIFO.
 */
export async function openInside(root: string, file: string, options: { maxBytes?: number } = {}): Promise<OpenFile> {
  const handle = await open(file, OPEN_FLAGS).catch((error: unknown) => {
    throw refusal(error, file);
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new RefusedFile("not_a_file", file);
    if (options.maxBytes !== undefined && info.size > options.maxBytes) throw new RefusedFile("too_large", file, { size: info.size });
    const [remembered, opened] = await Promise.all([realRootOf(root), descriptorPath(handle)]).catch((error: unknown) => {
      throw refusal(error, file);
    });
    // Where the descriptor itself leads (Linux): the file we opened, with no name to swap in between.
    const realPath = opened ?? (await realpath(file).catch((error: unknown) => {
      throw refusal(error, file);
    }));
    // Outside by a remembered root: the root itself may have moved since, so it is resolved again first.
    const realRoot = isInside(remembered, realPath) ? remembered : await realRootOf(root, { fresh: true }).catch((error: unknown) => {
      throw refusal(error, file);
    });
    if (!isInside(realRoot, realPath)) throw new RefusedFile("outside_folder", file);
    if (!opened) {
      // The name resolved now must still be the file we opened: a link swapped in between fails here.
      const named = await stat(realPath).catch(() => null);
      // Deleted in between is missing, not a way out of the folder.
      if (!named) throw new RefusedFile("missing", file);
      if (named.dev !== info.dev || named.ino !== info.ino) throw new RefusedFile("outside_folder", file);
    }
    return { handle, size: info.size, mtime: info.mtime, realPath, realRoot };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * A root's real path, resolved at most once a second: an import opens thousands of files under one root,
 * and each file's own real path is what is checked against it (a file found outside is checked again
 * against the root resolved anew, so the memo never refuses what a fresh look would accept).
 */
async function realRootOf(root: string, { fresh = false } = {}): Promise<string> {
  const now = Date.now();
  const known = realRoots.get(root);
  if (known && !fresh && now - known.at < ROOT_MEMO_MS) return known.real;
  const real = await realpath(root);
  if (realRoots.size >= 64) realRoots.clear();
  realRoots.set(root, { real, at: now });
  return real;
}
const realRoots = new Map<string, { real: string; at: number }>();
const ROOT_MEMO_MS = 1000;

/**
 * The real path of an open descriptor, from /proc/self/fd: one call instead of resolving the name and
 * checking it is still the file opened. Null where there is no /proc, or the file was deleted meanwhile
 * (its link then ends in " (deleted)"), for the caller to resolve the name as before.
 */
async function descriptorPath(handle: FileHandle): Promise<string | null> {
  const target = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => null);
  return target?.startsWith("/") && !target.endsWith(" (deleted)") ? target : null;
}

/**
 * A small file beside the audio (lyrics, a cover), whole, or null when it is absent or refused: these
 * files are optional, so a bad one means none. Larger than `maxBytes` is refused before any read.
 */
export async function readSidecar(root: string, file: string, maxBytes: number): Promise<Buffer | null> {
  let opened: OpenFile;
  try {
    opened = await openInside(root, file, { maxBytes });
  } catch (error) {
    if (!(error instanceof RefusedFile)) throw error;
    if (error.code !== "missing") log.info("Ignoring {file}: {reason}", { file, reason: error.message });
    return null;
  }
  try {
    return await readAll(opened);
  } finally {
    await opened.handle.close();
  }
}

/** The whole of an opened file, read through its descriptor (at most the size it had when opened). */
export async function readAll(file: Pick<OpenFile, "handle" | "size">): Promise<Buffer> {
  const buffer = Buffer.alloc(file.size);
  let filled = 0;
  while (filled < file.size) {
    const { bytesRead } = await file.handle.read(buffer, filled, file.size - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === file.size ? buffer : buffer.subarray(0, filled);
}

/** Whether `file` (after links) is a regular file inside `root`, without opening it: for choosing among names. */
export async function isRegularFileInside(root: string, file: string): Promise<boolean> {
  const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]).catch(() => [null, null]);
  if (!realRoot || !realFile || !isInside(realRoot, realFile)) return false;
  return (await stat(realFile).catch(() => null))?.isFile() ?? false;
}

/** True when `candidate` is `root` or below it (both already real, absolute paths). */
export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === "" || (!relative.startsWith(`..${path.sep}`) && relative !== ".." && !path.isAbsolute(relative));
}

function refusal(error: unknown, file: string): RefusedFile {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") return new RefusedFile("missing", file, { errno: code });
  if (code === "ENXIO" || code === "EISDIR") return new RefusedFile("not_a_file", file, { errno: code });
  return new RefusedFile("unreadable", file, { errno: code || String(error) });
}
