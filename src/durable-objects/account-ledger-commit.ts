/** An operation of a batch that threw: it was rolled back alone and the rest of its batch stands. */
export type Failed = { failed: string };

export interface CommitHost<Op, R> {
  storage: DurableObjectStorage;
  /** applies one operation inside the batch's transaction; `due` asks for the alarm at or before a time */
  apply(op: Op, now: number, due: (at: number) => void): R;
  /** memory may hold part of a batch whose transaction failed: rebuild it from SQLite */
  reload(): void;
  /** sets the alarm (after the batch's transaction returned) */
  schedule(at: number): Promise<void>;
}

/**
 * Group commit: one commit in flight at a time, and the calls that arrive meanwhile go into the next one. A call
 * that finds the object idle is applied at once (no added wait); calls that arrive while a commit is being made
 * durable queue, and when `storage.sync()` says it is, the whole queue is applied in order in one SQLite
 * transaction, so they share one commit instead of paying one each. Each operation runs in its own nested
 * transaction, so one that throws is rolled back alone (its result is `failed`) and the others stand. Every answer
 * leaves only once its commit is durable (the output gate). Each operation decides exactly as it would alone, in
 * arrival order: batching changes cost, not outcomes.
 */
export class GroupCommit<Op, R> {
  /** since this object woke: commits made and the operations they carried (the benchmark reports ops per commit) */
  readonly stats = { commits: 0, operations: 0 };
  private pumping = false;
  private queue: { ops: Op[]; done: (r: (R | Failed)[]) => void; fail: (e: unknown) => void }[] = [];

  constructor(private h: CommitHost<Op, R>) {}

  /** Several operations, applied in order in the next commit; one result per operation. */
  submit(ops: Op[]): Promise<(R | Failed)[]> {
    return new Promise((done, fail) => {
      this.queue.push({ ops, done, fail });
      if (!this.pumping) void this.pump();
    });
  }

  /** One operation; one that threw rejects (it changed nothing). */
  async one<T extends R>(op: Op): Promise<T> {
    const [r] = await this.submit([op]);
    if (r && typeof r === "object" && "failed" in r)
      throw new Error(`ledger operation failed and was rolled back: ${(r as Failed).failed}`);
    return r as T;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        this.flush();
        await this.h.storage.sync();
      }
    } catch (e) {
      // sync() fails when the commit did: the object is broken and will be reset; fail whatever is still queued.
      for (const b of this.queue.splice(0)) b.fail(e);
    } finally {
      this.pumping = false;
    }
  }

  private flush(): void {
    const batch = this.queue.splice(0);
    const now = Date.now();
    let due: number | null = null;
    const at = (t: number) => (due = Math.min(due ?? Number.POSITIVE_INFINITY, t));
    let results: (R | Failed)[][];
    try {
      results = this.h.storage.transactionSync(() => batch.map((b) => b.ops.map((o) => this.applyOne(o, now, at))));
    } catch (e) {
      // The batch's transaction itself failed and rolled back: memory may hold some of its operations, so it is
      // rebuilt from what is stored, and every caller is told.
      this.h.reload();
      for (const b of batch) b.fail(e);
      return;
    }
    this.stats.commits++;
    for (const b of batch) this.stats.operations += b.ops.length;
    if (due !== null)
      this.h
        .schedule(due)
        .catch((e) =>
          console.error(
            JSON.stringify({ level: "error", message: "setting the hold-expiry alarm failed", error: String(e) }),
          ),
        );
    batch.forEach((b, i) => b.done(results[i]!));
  }

  private applyOne(o: Op, now: number, due: (at: number) => void): R | Failed {
    try {
      return this.h.apply(o, now, due);
    } catch (e) {
      return { failed: e instanceof Error ? e.message : String(e) };
    }
  }
}
