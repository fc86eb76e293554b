import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { GROUP_DDL } from "../../src/durable-objects/account-ledger-groups.ts";
import { HOLD_COLUMNS, MIGRATE_V1_TO_V2, V1_TABLES } from "../../src/durable-objects/account-ledger-sql.ts";
import type { TestLedger } from "./support/test-ledger.ts";

const pricing = { kind: "per_gpu_second" as const, rates: { A40: 100 } };
const lab = () => env.MIGRATION_LAB.get(env.MIGRATION_LAB.newUniqueId());
const day = () => new Date().toISOString().slice(0, 10);
const limits = {
  rpm: 50,
  in_flight: 5,
  daily_quota: null,
  free_models_only: false,
  monthly_credit: 39000000,
  priority: 10,
};

/** A version 1 account as the first version stored it: balances, a pending and a settled hold, four entries, GCRA. */
const v1Rows = (now: number) => [
  `INSERT INTO state (id, account_id, plan, limits, deposits, spent, held, total_requests)
   VALUES (1, 'acct', 'pro', '${JSON.stringify(limits)}', 1000000, 3000, 50000, 7)`,
  `INSERT INTO holds (id, amount, status, charge, pricing, deadline, day, created_at) VALUES
   ('p1', 50000, 'pending', 0, '${JSON.stringify(pricing)}', ${now + 60_000}, '${day()}', 1),
   ('s1', 9000, 'settled', 3000, '${JSON.stringify(pricing)}', 2, '${day()}', 1)`,
  `INSERT INTO journal (op_id, kind, amount, hold_id, created_at, deposits, spent, held) VALUES
   ('credit:x', 'credit', 1000000, NULL, 1, 1000000, 0, 0), ('s1:hold', 'hold', 9000, 's1', 1, 1000000, 0, 9000),
   ('s1:settle', 'settle', 3000, 's1', 1, 1000000, 3000, 0), ('p1:hold', 'hold', 50000, 'p1', 1, 1000000, 3000, 50000)`,
  `INSERT INTO gcra (key, tat) VALUES ('rpm', ${now + 2400})`,
  `INSERT INTO daily (day, count) VALUES ('2000-01-01', 40), ('${day()}', 2)`,
];

describe("AccountLedger schema migrations", () => {
  it("a version 1 ledger (separate gcra and daily tables, rowid holds and journal) is adopted at step 1 and upgraded with every balance, hold and entry", async () => {
    const l = lab();
    const r = await l.legacy("ledger", [...V1_TABLES, ...v1Rows(Date.now())]);
    expect(r.applied).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.schema).toEqual((await lab().upgrade("ledger", 0)).schema);
    expect(await l.query(`SELECT version FROM _migrations WHERE applied_at = 0`)).toEqual([{ version: 1 }]);
    expect(await l.query(`SELECT deposits, spent, held, total_requests, quota_used FROM state`)).toEqual([
      { deposits: 1_000_000, spent: 3000, held: 50_000, total_requests: 7, quota_used: 2 },
    ]);
    expect(await l.query(`SELECT id, status, charge, check_at FROM holds ORDER BY id`)).toEqual([
      { id: "p1", status: "pending", charge: 0, check_at: null },
      { id: "s1", status: "settled", charge: 3000, check_at: null },
    ]);
    expect(await l.query(`SELECT op_id, seq FROM journal ORDER BY seq`)).toEqual(
      ["credit:x", "s1:hold", "s1:settle", "p1:hold"].map((op_id, i) => ({ op_id, seq: i + 1 })),
    );
  });

  it("an object from a later version without _migrations is adopted at the last step its tables match", async () => {
    // what the ledger's wake left before payments existed: version 2, group holds and the reconciler's columns
    const alters = HOLD_COLUMNS.map(([c, t]) => `ALTER TABLE holds ADD COLUMN ${c} ${t}`);
    const l = lab();
    const r = await l.legacy("ledger", [...V1_TABLES, ...MIGRATE_V1_TO_V2, GROUP_DDL, ...alters]);
    expect(r.applied).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.schema).toEqual((await lab().upgrade("ledger", 0)).schema);
    // steps 1-4 were recorded, not run again (applied_at 0); 5 and 6 ran
    const rows = (await l.query(`SELECT version, applied_at FROM _migrations ORDER BY version`)) as {
      version: number;
      applied_at: number;
    }[];
    expect(rows.map((m) => m.applied_at === 0)).toEqual([true, true, true, true, false, false]);
  });

  it("the upgraded version 1 ledger works: balances, today's quota and the GCRA state carried over; holds close once", async () => {
    const stub = env.TEST_LEDGER.get(env.TEST_LEDGER.idFromName(`migrate-${crypto.randomUUID()}`));
    await runInDurableObject(stub, async (l: TestLedger, state) => {
      const sql = state.storage.sql;
      const journalRows = () => sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM journal").one().n;
      l.replaceTables([...V1_TABLES, ...v1Rows(Date.now())]);
      await l.wake();
      const tables = sql
        .exec<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`)
        .toArray()
        .map((r) => r.name);
      expect(tables).not.toContain("gcra");
      expect(tables).not.toContain("daily");
      expect(await l.summary("acct", "pro")).toMatchObject({
        deposits: 1_000_000,
        spent: 3000,
        held: 50_000,
        available: 947_000,
        in_flight: 1,
        requests_today: 2,
        total_requests: 7,
        plan: "pro",
      });
      expect(journalRows()).toBe(4);
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
      // the migrated pending hold settles exactly once; the settled one answers its first outcome
      expect(await l.settle("p1", 1000, "A40")).toMatchObject({ status: "settled", charge: 100, first: true });
      expect(await l.void("s1", "cancelled")).toMatchObject({ status: "settled", charge: 3000, first: false });
      await l.wake(); // a second wake migrates nothing
      expect(journalRows()).toBe(6);
      expect(await l.summary("acct", "pro")).toMatchObject({ deposits: 1_000_000, spent: 3100, held: 1000 });
    });
  });
});
