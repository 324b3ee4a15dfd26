import { describe, expect, it } from "vitest";
import { FailedAttempts } from "../../server/subsonic/failed-attempts.ts";

describe("FailedAttempts (when a Subsonic success re-reads its lockouts)", () => {
  it("needs no re-read when no failure began since the mark", async () => {
    const attempts = new FailedAttempts();
    const mark = attempts.mark;
    await attempts.track(Promise.resolve());
    expect(await attempts.since(attempts.mark)).toBe(false);
    expect(await attempts.since(mark)).toBe(true);
  });

  it("waits until every failure being counted is written before answering", async () => {
    const attempts = new FailedAttempts();
    const mark = attempts.mark;
    const written: string[] = [];
    let finish!: () => void;
    const slow = new Promise<void>((resolve) => (finish = resolve)).then(() => void written.push("slow"));
    void attempts.track(slow);
    void attempts.track(Promise.reject(new Error("database gone")).catch(() => written.push("failed")));
    const answer = attempts.since(mark).then((again) => written.push(`answered ${again}`));
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toEqual(["failed"]);
    finish();
    await answer;
    expect(written).toEqual(["failed", "slow", "answered true"]);
  });
});
