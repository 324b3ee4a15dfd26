import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isInside, openInside, readSidecar, RefusedFile } from "../../core/media/safe-open.ts";

let base: string;
let root: string;
let outside: string;

beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(os.tmpdir(), "safe-open-")));
  root = path.join(base, "music");
  outside = path.join(base, "outside");
  await mkdir(path.join(root, "album"), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(root, "album", "song.lrc"), "[00:01.00]words");
  await writeFile(path.join(outside, "secret"), "top secret");
  await symlink(path.join(root, "album", "song.lrc"), path.join(root, "album", "alias.lrc"));
  await symlink(path.join(outside, "secret"), path.join(root, "album", "leak.lrc"));
  await symlink(root, path.join(base, "music-link"));
  execFileSync("mkfifo", [path.join(root, "album", "fifo.lrc")]);
  execFileSync("mkfifo", [path.join(outside, "fifo")]);
  await symlink(path.join(outside, "fifo"), path.join(root, "album", "linked-fifo.lrc"));
  await writeFile(path.join(root, "album", "huge.lrc"), Buffer.alloc(2 * 1024 * 1024, "a"));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(RefusedFile);
  return (error as RefusedFile).code;
}

describe("openInside", () => {
  it("opens a regular file inside the root and reads through the descriptor", async () => {
    const file = await openInside(root, path.join(root, "album", "song.lrc"));
    try {
      expect(file.size).toBe(15);
      expect(file.realPath).toBe(path.join(root, "album", "song.lrc"));
      expect((await file.handle.readFile()).toString()).toBe("[00:01.00]words");
    } finally {
      await file.handle.close();
    }
  });

  it("follows a link whose target stays inside, and a root that is itself a link", async () => {
    const viaLink = await openInside(root, path.join(root, "album", "alias.lrc"));
    expect(viaLink.realPath).toBe(path.join(root, "album", "song.lrc"));
    await viaLink.handle.close();
    const linkedRoot = await openInside(path.join(base, "music-link"), path.join(base, "music-link", "album", "song.lrc"));
    expect(linkedRoot.realRoot).toBe(root);
    await linkedRoot.handle.close();
  });

  it("follows a root that is a link moved to another folder at once, though its real path is remembered", async () => {
    const moving = path.join(base, "moving-root");
    await symlink(root, moving);
    await (await openInside(moving, path.join(moving, "album", "song.lrc"))).handle.close();
    // Within the second the root's real path is remembered, it now leads to `outside`: its files are inside it.
    await rm(moving);
    await symlink(outside, moving);
    const moved = await openInside(moving, path.join(moving, "secret"));
    expect(moved.realRoot).toBe(outside);
    await moved.handle.close();
    // And what is now outside the root is refused, remembered root or not.
    expect(await refusal(openInside(moving, path.join(root, "album", "song.lrc")))).toBe("outside_folder");
    await rm(moving);
  });

  it("refuses links and paths that lead out of the root", async () => {
    expect(await refusal(openInside(root, path.join(root, "album", "leak.lrc")))).toBe("outside_folder");
    expect(await refusal(openInside(root, path.join(root, "..", "outside", "secret")))).toBe("outside_folder");
  });

  it("refuses FIFOs (without blocking), directories and missing files", async () => {
    expect(await refusal(openInside(root, path.join(root, "album", "fifo.lrc")))).toBe("not_a_file");
    expect(await refusal(openInside(root, path.join(root, "album", "linked-fifo.lrc")))).toBe("not_a_file");
    expect(await refusal(openInside(root, path.join(root, "album")))).toBe("not_a_file");
    expect(await refusal(openInside(root, path.join(root, "album", "nothing.lrc")))).toBe("missing");
  });

  it("refuses a file over maxBytes before reading it, and says how big it is", async () => {
    const error = await openInside(root, path.join(root, "album", "huge.lrc"), { maxBytes: 1024 * 1024 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "too_large", size: 2 * 1024 * 1024 });
  });
});

describe("readSidecar", () => {
  it("reads a small file inside and gives null for everything refused", async () => {
    expect((await readSidecar(root, path.join(root, "album", "song.lrc"), 1024))?.toString()).toBe("[00:01.00]words");
    for (const name of ["leak.lrc", "fifo.lrc", "linked-fifo.lrc", "huge.lrc", "nothing.lrc"]) {
      expect([name, await readSidecar(root, path.join(root, "album", name), 1024 * 1024)]).toEqual([name, null]);
    }
  });
});

describe("isInside", () => {
  it.each([
    ["/srv/music", "/srv/music", true],
    ["/srv/music", "/srv/music/a/b.mp3", true],
    ["/srv/music", "/srv/music/..data/b.mp3", true],
    ["/srv/music", "/srv/music-other/b.mp3", false],
    ["/srv/music", "/srv", false],
    ["/srv/music", "/etc/shadow", false],
  ])("%s holds %s: %s", (rootPath, candidate, expected) => {
    expect(isInside(rootPath, candidate)).toBe(expected);
  });
});
