import { DurableObject } from "cloudflare:workers";
import { PLAN_DEFAULTS, type Plan, type PlanLimits } from "../../schemas/index.ts";
import type { Env } from "../env.ts";
import type { HoldPricing } from "../services/pricing.ts";
import { adjust } from "./account-ledger-adjust.ts";
import type { Earner, EarningsReport, Statement } from "./account-ledger-earnings.ts";
import { ACCOUNT_LEDGER_MIGRATIONS } from "./account-ledger-migrations.ts";
import type { AutoRechargeClaim, BillingState, EffectResult, StripeEffect } from "./account-ledger-money.ts";
import type { PaymentRow, SplitRow } from "./account-ledger-money-sql.ts";
import { composeLedger, type CommitOp, type LedgerParts } from "./account-ledger-parts.ts";
import type { RaiseResult, RunningTick, TickResult } from "./account-ledger-running.ts";
import type { HoldStatus } from "./account-ledger-sql.ts";
import type {
  AdjustResult,
  AdmitRequest,
  AdmitResult,
  GroupOutcome,
  GroupReserve,
  LedgerOpResult,
  LedgerSummary,
  NodeSettleResult,
  SettleResult,
  VoidResult,
} from "./account-ledger-types.ts";
import { runMigrations } from "./migrations.ts";

export type * from "./account-ledger-types.ts";

/**
 * One per account: money and limits, TigerBeetle-style. `available = deposits - spent - held`; a hold is made before
 * a job runs, then closed exactly once (settled on the measured GPU time, voided on any failure, expired by the
 * alarm); every movement is a journal entry with an operation id. Rate limit (GCRA), daily quota, in-flight limit and
 * the hold are decided and written in one synchronous SQLite transaction per request. The words are defined in
 * docs/glossary.md.
 *
 * The class is the RPC surface; the modules it composes (account-ledger-parts.ts) do the work: the book (state in
 * memory, written through SQLite), admission, closing holds, group holds, the group commit every request-path call
 * goes through, the alarm and its reconciler, payments, earnings and running holds.
 */
export class AccountLedger extends DurableObject<Env> {
  /** `protected`: the test and benchmark subclasses read the modules */
  protected readonly parts: LedgerParts;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.parts = composeLedger(ctx, env);
    ctx.blockConcurrencyWhile(() => this.wake());
  }

  /** Migrates the schema, loads memory from SQLite and sets the alarm again for the pending holds. */
  protected async wake(): Promise<void> {
    runMigrations(this.ctx.storage, ACCOUNT_LEDGER_MIGRATIONS);
    this.parts.reload();
    await this.parts.alarm.wake();
  }

  private one<T extends LedgerOpResult>(op: CommitOp): Promise<T> {
    return this.parts.commit.one<T>(op);
  }

  // ---- the request path: through the group commit --------------------------------------------------------------

  /** Rate limit + daily quota + in-flight limit + credit hold, decided and written in one transaction. */
  async admit(accountId: string, planHint: Plan, req: AdmitRequest): Promise<AdmitResult> {
    return this.one<AdmitResult>({ op: "admit", account_id: accountId, plan: planHint, req });
  }

  /** Settles a hold on the measured GPU time: charge = min(hold, price). A closed hold returns its first outcome. */
  async settle(id: string, gpuMs: number, gpuClass: string | null, earner?: Earner): Promise<SettleResult> {
    const op = { op: "settle", id, gpu_ms: gpuMs, gpu_class: gpuClass, ...(earner ? { earner } : {}) } as const;
    return this.one<SettleResult>(op);
  }

  /** Voids the whole hold; platform failures also give the call back to the quota. A closed hold returns its first outcome. */
  async void(id: string, reason: string): Promise<VoidResult> {
    return this.one<VoidResult>({ op: "void", id, reason });
  }

  // ---- workflow runs: group holds ------------------------------------------------------------------------------

  /** One admission (rate limit, quota, in-flight, hold of Σ node maxima) for a whole workflow run. */
  async reserveGroup(accountId: string, planHint: Plan, req: GroupReserve): Promise<AdmitResult> {
    return this.one<AdmitResult>({ op: "reserve_group", account_id: accountId, plan: planHint, req });
  }

  /** Settles a completed node's share: its charge stays held, the rest of its share returns; once per (run, node). */
  async settleNode(group: string, node: string, gpuMs: number, gpuClass: string | null): Promise<NodeSettleResult> {
    return this.one<NodeSettleResult>({ op: "settle_node", group, node, gpu_ms: gpuMs, gpu_class: gpuClass });
  }

  /** settle: charge the settled nodes, return the rest; void: return everything. Idempotent. */
  async closeGroup(group: string, mode: "settle" | "void", reason: string): Promise<GroupOutcome | null> {
    return this.one<GroupOutcome | null>({ op: "close_group", group, mode, reason });
  }

  async groupOutcome(group: string): Promise<GroupOutcome | null> {
    return this.parts.groups.outcome(group, false);
  }

  // ---- the account -------------------------------------------------------------------------------------------------

  async setPlan(accountId: string, plan: Plan, overrides: Partial<PlanLimits> = {}): Promise<PlanLimits> {
    const limits = { ...PLAN_DEFAULTS[plan], ...overrides };
    const book = this.parts.book;
    book.ensure(accountId, plan);
    book.tx(() => book.writePlan(plan, limits));
    return limits;
  }

  /** Holds by status, with the total charged: the admin ledger view reconciles these against the requests. */
  async holdCounts(): Promise<{ status: HoldStatus; count: number; amount: number; charged: number }[]> {
    return this.parts.book.holdCounts();
  }

  async outcome(id: string): Promise<{ status: HoldStatus; amount: number; charge: number } | null> {
    const h = this.parts.book.hold(id);
    return h ? { status: h.status, amount: h.amount, charge: h.charge } : null;
  }

  /** Credit or debit, idempotent by operation id; a repeat with other parameters is a conflict. */
  async adjust(
    accountId: string,
    planHint: Plan,
    kind: "credit" | "debit",
    opId: string,
    amount: number,
    reason: string,
  ): Promise<AdjustResult> {
    return adjust(this.parts.book, accountId, planHint, kind, opId, amount, reason, Date.now());
  }

  /** The plan's monthly credit, once per period (`YYYY-MM`); safe to call any number of times. */
  async grantMonthly(accountId: string, planHint: Plan, period: string): Promise<{ granted: number }> {
    const s = this.parts.book.ensure(accountId, planHint);
    const amount = s.limits.monthly_credit;
    // A Stripe subscription credits the month on each paid invoice instead.
    if (amount <= 0 || this.parts.money.state().stripe_managed) return { granted: 0 };
    const reason = `${s.plan} plan credit for ${period}`;
    const r = await this.adjust(accountId, planHint, "credit", `grant:${s.plan}:${period}`, amount, reason);
    return { granted: r.ok && !r.replayed ? amount : 0 };
  }

  async summary(accountId: string, planHint: Plan): Promise<LedgerSummary> {
    return this.parts.book.summary(accountId, planHint, Date.now());
  }

  /** Expires the holds past their deadline and reconciles those whose job is due a check. */
  override async alarm(): Promise<void> {
    await this.parts.alarm.fire(Date.now());
  }

  // ---- payments (account-ledger-money.ts) ------------------------------------------------------------------------

  async stripeEffect(
    accountId: string,
    planHint: Plan,
    eventId: string,
    eventType: string,
    effect: StripeEffect,
  ): Promise<EffectResult> {
    return this.parts.money.apply(accountId, planHint, eventId, eventType, effect, Date.now());
  }

  async billingState(
    accountId: string,
    planHint: Plan,
  ): Promise<{ billing: BillingState; payments: PaymentRow[]; plan: Plan; available: number }> {
    const { book, money } = this.parts;
    const s = book.ensure(accountId, planHint);
    return { billing: money.state(), payments: money.payments(100), plan: s.plan, available: book.available() };
  }

  async setCustomer(accountId: string, planHint: Plan, customerId: string): Promise<void> {
    this.parts.money.setCustomer(accountId, planHint, customerId);
  }

  async configureAutoRecharge(
    accountId: string,
    planHint: Plan,
    cfg: { enabled: boolean; threshold: number; amount: number },
  ) {
    return this.parts.money.configure(accountId, planHint, cfg, Date.now());
  }

  /** After a debit outside a settle: claims an auto-recharge charge when one is due. */
  async autoRechargeCheck(accountId: string): Promise<AutoRechargeClaim | null> {
    const { book, money, safeTx } = this.parts;
    return book.s ? safeTx(() => money.claim(accountId, Date.now())) : null;
  }

  async autoRechargeFailed(seq: number, code: string, message: string): Promise<void> {
    const { money, safeTx } = this.parts;
    safeTx(() => money.fail(seq, code, message));
  }

  // ---- dedicated endpoints: running holds (account-ledger-running.ts) ---------------------------------------------

  /** Sets an endpoint's running hold to `target`; raising needs the difference available. */
  async raiseRunning(accountId: string, planHint: Plan, id: string, target: number): Promise<RaiseResult> {
    return this.parts.running.raise(accountId, planHint, id, target, Date.now());
  }

  /** One tick of an endpoint: capture what accrued (never more than held), top up; idempotent by (id, seq). */
  async tickRunning(
    id: string,
    tick: RunningTick,
  ): Promise<TickResult | { ok: false; code: "not_found" | "invalid_input" }> {
    return this.parts.running.tick(id, tick, Date.now());
  }

  async runningView(id: string) {
    return this.parts.running.view(id);
  }

  // ---- provider earnings (account-ledger-earnings.ts) --------------------------------------------------------------

  async splitsOf(holdId: string): Promise<SplitRow[]> {
    return this.parts.earnings.splitsOf(holdId);
  }

  /** The platform pays the provider's share of a voided hold's work (e.g. output moderation); idempotent. */
  async platformPays(holdId: string, earner: Earner, gpuMs: number, gpuClass: string | null): Promise<SplitRow | null> {
    const h = this.parts.book.hold(holdId);
    if (!h || h.status === "settled" || h.status === "pending") return null;
    const pricing = JSON.parse(h.pricing) as HoldPricing;
    return this.parts.earnings.platformPays(holdId, earner, pricing, h.amount, gpuMs, gpuClass, Date.now());
  }

  async recordEarning(accountId: string, split: SplitRow): Promise<boolean> {
    return this.parts.earnings.record(accountId, split);
  }

  async payout(opId: string, amount: number, reference: string | null) {
    return this.parts.earnings.payout(opId, amount, reference, Date.now());
  }

  async earningsReport(from: number, to: number): Promise<EarningsReport> {
    return this.parts.earnings.report(from, to);
  }

  async statement(from: number, to: number): Promise<Statement> {
    return this.parts.earnings.statement(from, to);
  }
}
