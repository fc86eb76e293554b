import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { LedgerOp, LedgerOpResult } from "../../src/durable-objects/account-ledger.ts";
import type { TestLedger } from "./support/test-ledger.ts";

const pricing = { kind: "per_gpu_second" as const, rates: { A40: 100 } };
// the production ledger plus its test hooks (commitStats, apply, failJournalOf): test/worker/support/test-ledger.ts
const stubFor = (name: string) =>
  env.TEST_LEDGER.get(env.TEST_LEDGER.idFromName(`${name}-${Date.now()}-${Math.random()}`));
type Sql = DurableObjectState["storage"]["sql"];
const stored = (sql: Sql) =>
  sql.exec<{ deposits: number; spent: number; held: number }>("SELECT deposits, spent, held FROM state").one();
const pendingSum = (sql: Sql) =>
  sql.exec<{ n: number }>("SELECT COALESCE(SUM(amount), 0) AS n FROM holds WHERE status = 'pending'").one().n;
const journalRows = (sql: Sql) => sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM journal").one().n;

/** A mixed stream of operations: holds that together exceed the balance, settles, voids, duplicates and unknown ids. */
function workload(n: number): LedgerOp[] {
  const ops: LedgerOp[] = [];
  for (let i = 0; i < n; i++) {
    const id = `h${Math.floor(i / 3)}`;
    // settles and voids lag 15 holds behind, so about 15 are outstanding and the balance runs out now and then
    const lagged = `h${Math.max(0, Math.floor(i / 3) - 15)}`;
    if (i % 3 === 0)
      ops.push({
        op: "admit",
        account_id: "acct",
        plan: "enterprise",
        req: { id, amount: 50_000 + (i % 7) * 1000, pricing, ttl_ms: 60_000, model_free: false },
      });
    else if (i % 3 === 1)
      ops.push(
        i % 5 === 0
          ? { op: "void", id: lagged, reason: "worker_lost" }
          : { op: "settle", id: lagged, gpu_ms: (i % 11) * 100, gpu_class: "A40" },
      );
    else
      ops.push(
        i % 4 === 0
          ? { op: "settle", id: `h${Math.floor(i / 6)}`, gpu_ms: 5000, gpu_class: "A40" }
          : { op: "void", id: `missing${i}`, reason: "cancelled" },
      );
  }
  return ops;
}

/** A result without its rate-limit headers, which depend on the clock between calls. */
const decision = (r: LedgerOpResult) => {
  const { rate: _rate, ...rest } = r as LedgerOpResult & { rate?: unknown };
  return rest;
};

const call = (l: TestLedger, o: LedgerOp): Promise<LedgerOpResult> =>
  o.op === "admit"
    ? l.admit(o.account_id, o.plan, o.req)
    : o.op === "settle"
      ? l.settle(o.id, o.gpu_ms, o.gpu_class)
      : l.void(o.id, o.reason);

describe("ledger group commit", () => {
  it("300 concurrent calls share commits and decide exactly as the same calls made one at a time", async () => {
    const ops = workload(300);
    const setup = async (l: TestLedger) => {
      await l.setPlan("acct", "enterprise", { rpm: 1_000_000, in_flight: 100_000 });
      await l.adjust("acct", "enterprise", "credit", "seed", 600_000, "test");
    };
    // one at a time: every call is its own commit
    const sequential = await runInDurableObject(stubFor("seq"), async (l: TestLedger, state) => {
      await setup(l);
      const out: LedgerOpResult[] = [];
      for (const o of ops) out.push(await call(l, o));
      return { out: out.map(decision), state: stored(state.storage.sql), stats: await l.commitStats() };
    });
    // all at once: the calls queue behind the commit in flight and go together
    const concurrent = await runInDurableObject(stubFor("conc"), async (l: TestLedger, state) => {
      await setup(l);
      const before = await l.commitStats();
      const out = await Promise.all(ops.map((o) => call(l, o)));
      const after = await l.commitStats();
      const s = stored(state.storage.sql);
      expect(s.deposits - s.spent - s.held).toBeGreaterThanOrEqual(0);
      expect(pendingSum(state.storage.sql)).toBe(s.held);
      return {
        out: out.map(decision),
        state: s,
        stats: { commits: after.commits - before.commits, operations: after.operations - before.operations },
      };
    });
    expect(sequential.stats.operations).toBe(sequential.stats.commits);
    expect(concurrent.stats.operations).toBe(300);
    expect(concurrent.stats.commits).toBeLessThan(10);
    // same outcomes, same balances: batching changes cost, not decisions
    expect(concurrent.out).toEqual(sequential.out);
    expect(concurrent.state).toEqual(sequential.state);
    // the walk hit both sides of the balance check
    const admits = concurrent.out.filter((_, i) => ops[i]!.op === "admit") as { ok: boolean }[];
    expect(admits.some((r) => r.ok)).toBe(true);
    expect(admits.some((r) => !r.ok)).toBe(true);
  });

  it("an operation that throws between its writes is rolled back alone; the rest of its batch commits", async () => {
    await runInDurableObject(stubFor("fault"), async (l: TestLedger, state) => {
      const sql = state.storage.sql;
      await l.setPlan("acct", "enterprise", { rpm: 1_000_000, in_flight: 100_000 });
      await l.adjust("acct", "enterprise", "credit", "seed", 1_000_000, "test");
      for (const id of ["a", "b", "c"])
        expect(
          (await l.admit("acct", "enterprise", { id, amount: 100_000, pricing, ttl_ms: 60_000, model_free: false })).ok,
        ).toBe(true);
      const before = { state: stored(sql), journal: journalRows(sql) };

      // Fault: the journal write of b's settle throws, after the hold row and the balances were written.
      l.failJournalOf("b:settle");
      const results = await l.apply([
        { op: "settle", id: "a", gpu_ms: 1000, gpu_class: "A40" },
        { op: "settle", id: "b", gpu_ms: 1000, gpu_class: "A40" },
        { op: "void", id: "c", reason: "cancelled" },
      ]);
      expect(results[0]).toMatchObject({ status: "settled", charge: 100, first: true });
      expect(results[1]).toEqual({ failed: "injected fault" });
      expect(results[2]).toMatchObject({ status: "voided", first: true });
      // b is untouched: still pending, its amount still held, no journal entry; a and c committed
      expect(sql.exec<{ status: string }>("SELECT status FROM holds WHERE id = 'b'").one().status).toBe("pending");
      const after = stored(sql);
      expect(after).toEqual({ deposits: before.state.deposits, spent: before.state.spent + 100, held: 100_000 });
      expect(journalRows(sql)).toBe(before.journal + 2);
      // a single call whose operation fails rejects, and changes nothing
      await expect(l.settle("b", 1000, "A40")).rejects.toThrow(/injected fault/);
      expect(stored(sql)).toEqual(after);
      // memory agrees with storage: rebuilding it from SQLite changes nothing, and b can still be settled once
      const summary = await l.summary("acct", "enterprise");
      l.reload();
      expect(await l.summary("acct", "enterprise")).toEqual(summary);
      l.failJournalOf(null);
      expect(await l.settle("b", 2000, "A40")).toMatchObject({ status: "settled", charge: 200, first: true });
      expect(await l.settle("b", 9000, "A40")).toMatchObject({ status: "settled", charge: 200, first: false });
      expect(pendingSum(sql)).toBe(stored(sql).held);
    });
  });
});
