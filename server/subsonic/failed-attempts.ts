/**
 * The failed Subsonic logins this process is counting. Every Subsonic request logs in, so a success
 * cannot afford a second query to re-read its lockouts each time; it needs one only when guesses may
 * have run beside it: when its first read saw failures in the window, or when a failure began in this
 * process while it was being checked. Then it waits until those failures are counted, and re-reads.
 */
export class FailedAttempts {
  #started = 0;
  readonly #counting = new Set<Promise<unknown>>();

  /** Where the count stands now: pass it to `since` once the attempt has been checked. */
  get mark(): number {
    return this.#started;
  }

  /** Notes a failure while `counting` writes it to the database, and returns `counting`. */
  track<T>(counting: Promise<T>): Promise<T> {
    this.#started++;
    this.#counting.add(counting);
    const settle = () => this.#counting.delete(counting);
    counting.then(settle, settle);
    return counting;
  }

  /** Whether a failure began after `mark`; resolves once every failure being counted is in the database. */
  async since(mark: number): Promise<boolean> {
    if (this.#started === mark) return false;
    await Promise.allSettled([...this.#counting]);
    return true;
  }
}
