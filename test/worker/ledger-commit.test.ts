import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AccountLedger, LedgerOp, LedgerOpResult } from "../../src/durable-objects/account-ledger.ts";

const pricing = { kind: "per_gpu_second" as const, rates: { A40: 100 } };
const stubFor = (name: string) =>
  env.ACCOUNT_LEDGER.get(env.ACCOUNT_LEDGER.idFromName(`${name}-${Date.now()}-${Math.random()}`));
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
    // resolutions lag 15 holds behind, so about 15 are outstanding and the balance runs out now and then
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

const call = (l: AccountLedger, o: LedgerOp): Promise<LedgerOpResult> =>
  o.op === "admit"
    ? l.admit(o.account_id, o.plan, o.req)
    : o.op === "settle"
      ? l.settle(o.id, o.gpu_ms, o.gpu_class)
      : l.void(o.id, o.reason);

describe("ledger group commit", () => {
  it("300 concurrent calls share commits and decide exactly as the same calls made one at a time", async () => {
    const ops = workload(300);
    const setup = async (l: AccountLedger) => {
      await l.setPlan("acct", "enterprise", { rpm: 1_000_000, in_flight: 100_000 });
      await l.adjust("acct", "enterprise", "credit", "seed", 600_000, "test");
    };
    // one at a time: every call is its own commit
    const sequential = await runInDurableObject(stubFor("seq"), async (l: AccountLedger, state) => {
      await setup(l);
      const out: LedgerOpResult[] = [];
      for (const o of ops) out.push(await call(l, o));
      return { out: out.map(decision), state: stored(state.storage.sql), stats: await l.commitStats() };
    });
    // all at once: the calls queue behind the commit in flight and go together
    const concurrent = await runInDurableObject(stubFor("conc"), async (l: AccountLedger, state) => {
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
    await runInDurableObject(stubFor("fault"), async (l: AccountLedger, state) => {
      const sql = state.storage.sql;
      await l.setPlan("acct", "enterprise", { rpm: 1_000_000, in_flight: 100_000 });
      await l.adjust("acct", "enterprise", "credit", "seed", 1_000_000, "test");
      for (const id of ["a", "b", "c"])
        expect(
          (await l.admit("acct", "enterprise", { id, amount: 100_000, pricing, ttl_ms: 60_000, model_free: false })).ok,
        ).toBe(true);
      const before = { state: stored(sql), journal: journalRows(sql) };

      // Fault: the journal write of b's settlement throws, after the hold row and the balances were written.
      const internals = l as unknown as { journal: (...args: unknown[]) => void };
      const journal = internals.journal.bind(l);
      internals.journal = (...args: unknown[]) => {
        if (args[1] === "b:settle") throw new Error("injected fault");
        journal(...args);
      };
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
      internals.journal = journal;
      expect(await l.settle("b", 2000, "A40")).toMatchObject({ status: "settled", charge: 200, first: true });
      expect(await l.settle("b", 9000, "A40")).toMatchObject({ status: "settled", charge: 200, first: false });
      expect(pendingSum(sql)).toBe(stored(sql).held);
    });
  });

  it("a version 1 ledger (separate gcra and daily tables, rowid holds and journal) migrates with every balance, hold and entry", async () => {
    await runInDurableObject(stubFor("migrate"), async (l: AccountLedger, state) => {
      const sql = state.storage.sql;
      for (const t of ["journal", "holds", "state"]) sql.exec(`DROP TABLE ${t}`);
      for (const q of V1_DDL) sql.exec(q);
      const day = new Date().toISOString().slice(0, 10);
      sql.exec(
        `INSERT INTO state (id, account_id, plan, limits, deposits, spent, held, total_requests) VALUES (1, 'acct', 'pro', ?, 1000000, 3000, 50000, 7)`,
        JSON.stringify({
          rpm: 50,
          in_flight: 5,
          daily_quota: null,
          free_models_only: false,
          monthly_credit: 39000000,
          priority: 10,
        }),
      );
      sql.exec(
        `INSERT INTO holds (id, amount, status, charge, pricing, deadline, day, created_at) VALUES ('p1', 50000, 'pending', 0, ?, ?, ?, 1), ('s1', 9000, 'settled', 3000, ?, 2, ?, 1)`,
        JSON.stringify(pricing),
        Date.now() + 60_000,
        day,
        JSON.stringify(pricing),
        day,
      );
      sql.exec(
        `INSERT INTO journal (op_id, kind, amount, hold_id, created_at, deposits, spent, held) VALUES ('credit:x', 'credit', 1000000, NULL, 1, 1000000, 0, 0), ('s1:hold', 'hold', 9000, 's1', 1, 1000000, 0, 9000), ('s1:settle', 'settle', 3000, 's1', 1, 1000000, 3000, 0), ('p1:hold', 'hold', 50000, 'p1', 1, 1000000, 3000, 50000)`,
      );
      sql.exec(`INSERT INTO gcra (key, tat) VALUES ('rpm', ?)`, Date.now() + 2400);
      sql.exec(`INSERT INTO daily (day, count) VALUES ('2000-01-01', 40), (?, 2)`, day);

      const internals = l as unknown as { migrate: () => void };
      internals.migrate();
      l.reload();
      const tables = sql
        .exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`)
        .toArray()
        .map((r) => r.name);
      expect(tables).not.toContain("gcra");
      expect(tables).not.toContain("daily");
      const s = await l.summary("acct", "pro");
      expect(s).toMatchObject({
        deposits: 1_000_000,
        spent: 3000,
        held: 50_000,
        available: 947_000,
        in_flight: 1,
        requests_today: 2,
        total_requests: 7,
        plan: "pro",
      });
      expect(journalRows(sql)).toBe(4);
      // the GCRA state came along: the burst already used stays used
      const admitted = await l.admit("acct", "pro", {
        id: "n1",
        amount: 1000,
        pricing,
        ttl_ms: 60_000,
        model_free: false,
      });
      expect(admitted).toMatchObject({ ok: true, replayed: false });
      expect((admitted as { rate: { remaining: number } }).rate.remaining).toBeLessThan(49);
      // the migrated pending hold resolves exactly once; the settled one answers its first outcome
      expect(await l.settle("p1", 1000, "A40")).toMatchObject({ status: "settled", charge: 100, first: true });
      expect(await l.void("s1", "cancelled")).toMatchObject({ status: "settled", charge: 3000, first: false });
      internals.migrate(); // idempotent: a second wake migrates nothing
      expect(journalRows(sql)).toBe(6);
    });
  });
});

/** The version 1 schema, as the first release created it. */
const V1_DDL = [
  `CREATE TABLE state (id INTEGER PRIMARY KEY CHECK (id = 1), account_id TEXT NOT NULL, plan TEXT NOT NULL, limits TEXT NOT NULL, deposits INTEGER NOT NULL DEFAULT 0, spent INTEGER NOT NULL DEFAULT 0, held INTEGER NOT NULL DEFAULT 0, total_requests INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE holds (id TEXT PRIMARY KEY, amount INTEGER NOT NULL, status TEXT NOT NULL, charge INTEGER NOT NULL DEFAULT 0, pricing TEXT NOT NULL, deadline INTEGER NOT NULL, day TEXT NOT NULL, created_at INTEGER NOT NULL, resolved_at INTEGER, reason TEXT)`,
  `CREATE INDEX holds_pending ON holds(status, deadline)`,
  `CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, op_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, amount INTEGER NOT NULL, hold_id TEXT, reason TEXT, created_at INTEGER NOT NULL, deposits INTEGER NOT NULL, spent INTEGER NOT NULL, held INTEGER NOT NULL)`,
  `CREATE TABLE gcra (key TEXT PRIMARY KEY, tat INTEGER NOT NULL)`,
  `CREATE TABLE daily (day TEXT PRIMARY KEY, count INTEGER NOT NULL)`,
];
