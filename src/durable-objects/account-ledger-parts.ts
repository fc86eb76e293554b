import type { Env } from "../env.ts";
import { broker } from "../services/broker.ts";
import { admit, RECONCILE_AFTER_MS } from "./account-ledger-admit.ts";
import { HoldAlarm } from "./account-ledger-alarm.ts";
import { LedgerBook } from "./account-ledger-book.ts";
import { GroupCommit } from "./account-ledger-commit.ts";
import { LedgerEarnings } from "./account-ledger-earnings.ts";
import { GroupHolds } from "./account-ledger-groups.ts";
import { HoldClosing } from "./account-ledger-holds.ts";
import { LedgerMoney } from "./account-ledger-money.ts";
import { Reconciler } from "./account-ledger-reconciler.ts";
import { RunningHolds } from "./account-ledger-running.ts";
import type { GroupLedgerOp, LedgerOp, LedgerOpResult, VoidResult } from "./account-ledger-types.ts";

export type CommitOp = LedgerOp | GroupLedgerOp;

/** The modules an AccountLedger composes, sharing one book (balances, pending holds, journal). */
export interface LedgerParts {
  book: LedgerBook;
  /** settle, void and expire of single holds */
  holds: HoldClosing;
  /** workflow runs: one hold per run, settled node by node */
  groups: GroupHolds;
  /** every hold, settle and void of the request path goes through one group commit */
  commit: GroupCommit<CommitOp, LedgerOpResult>;
  alarm: HoldAlarm;
  reconciler: Reconciler;
  money: LedgerMoney;
  earnings: LedgerEarnings;
  /** dedicated endpoints: one running hold each, captured and topped up by the endpoint's ticks */
  running: RunningHolds;
  /** rebuilds memory from SQLite alone */
  reload(): void;
  /** a transaction that rebuilds memory from SQLite when it throws */
  safeTx<T>(fn: () => T): T;
}

/**
 * Wires the modules. Two kinds of transaction: the request path (admission, settle, void, group holds) writes first
 * and lets memory follow only once its transaction returned; payments and running holds change memory as they write,
 * so their transaction (`safeTx`) rebuilds memory from SQLite when it throws.
 */
export function composeLedger(ctx: DurableObjectState, env: Env): LedgerParts {
  const storage = ctx.storage;
  const book = new LedgerBook(storage);
  const reload = () => {
    book.load();
    money.reload();
  };
  const safeTx = <T>(fn: () => T): T => {
    try {
      return book.tx(fn);
    } catch (e) {
      reload();
      throw e;
    }
  };
  const money: LedgerMoney = new LedgerMoney({
    sql: storage.sql,
    tx: safeTx,
    ensure: (accountId, plan) => void book.ensure(accountId, plan),
    available: () => book.available(),
    plan: () => book.s?.plan ?? "free",
    move: (opId, kind, d, amount, reason, now) => {
      const s = book.s!;
      const next = { ...s, deposits: s.deposits + (d.deposits ?? 0), spent: s.spent + (d.spent ?? 0) };
      book.move(next, opId, kind, amount, null, reason, now);
    },
    setPlan: (plan, limits) => book.writePlan(plan, limits),
  });
  const earnings = new LedgerEarnings(storage.sql, safeTx);
  const holds = new HoldClosing(book, earnings, money, safeTx);
  const groups = new GroupHolds({
    book,
    admit: (accountId, plan, req, now) => admit(book, accountId, plan, req, now),
    voidHold: (id, reason, now) => holds.void(id, "voided", reason, now),
    reload,
  });
  const running = new RunningHolds({
    sql: storage.sql,
    tx: safeTx,
    ensure: (accountId, plan) => void book.ensure(accountId, plan),
    balances: () => book.s ?? { deposits: 0, spent: 0, held: 0 },
    shift: (opId, kind, d, amount, holdId, reason, now) => {
      const s = book.s!;
      book.move({ ...s, held: s.held + d.held, spent: s.spent + d.spent }, opId, kind, amount, holdId, reason, now);
    },
    split: (...args) => earnings.split(...args),
  });
  const commit = new GroupCommit<CommitOp, LedgerOpResult>({
    storage,
    apply(o, now, due) {
      switch (o.op) {
        case "admit": {
          const r = admit(book, o.account_id, o.plan, o.req, now);
          if (r.ok && !r.replayed) due(o.req.job ? now + RECONCILE_AFTER_MS : now + Math.max(0, o.req.ttl_ms));
          return r;
        }
        case "settle":
          return holds.settle(o.id, o.gpu_ms, o.gpu_class, now, o.earner);
        case "void":
          return holds.void(o.id, "voided", o.reason, now) ?? { error: "not_found" };
        case "reserve_group": {
          const r = groups.reserve(o.account_id, o.plan, o.req, now);
          if (r.ok && !r.replayed) due(now + Math.max(0, o.req.ttl_ms));
          return r;
        }
        case "settle_node":
          return groups.settleNode(o.group, o.node, o.gpu_ms, o.gpu_class, now);
        case "close_group":
          return groups.close(o.group, o.mode, o.reason, now);
      }
    },
    reload,
    schedule: (at) => alarm.schedule(at),
  });
  const voidAll = (ids: string[], reason: string) =>
    commit.submit(ids.map((id): CommitOp => ({ op: "void", id, reason }))) as Promise<
      (VoidResult | { failed: string })[]
    >;
  const reconciler = new Reconciler((pool, items) => broker(env, pool).reconcile(items), book, voidAll);
  const alarm: HoldAlarm = new HoldAlarm(storage, book, {
    expire: (now) => holds.expire(now),
    reconcile: (now) => reconciler.run(now),
  });
  return { book, holds, groups, commit, alarm, reconciler, money, earnings, running, reload, safeTx };
}
