import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import type { Plan } from "../../schemas/index.ts";
import { nextTick } from "./endpoint-money.ts";
import { scaleDown, scaleUp, type ScalingHost } from "./endpoint-scaling.ts";
import { EndpointSql, LIVE, type EndpointRecord, type InstanceRow } from "./endpoint-sql.ts";
import { endpointPorts, type EndpointPorts } from "../services/endpoints/ports.ts";
import { LOST_AFTER_MS, TICK_MS, holdTarget, sessionBilledMs } from "../services/endpoints/metering.ts";

/** How often the endpoint looks at its queue and instances while it has any. */
export const STEP_MS = 10_000;
/** init timeouts in a row, with no instance ever ready, after which the endpoint fails */
const MAX_INIT_FAILURES = 3;
const ACTIVE = new Set(["pending", "provisioning", "running", "scaled_to_zero"]);

/** What a new endpoint is created with: its configuration; the rest of the record starts at zero. */
export type EndpointConfig = Omit<
  EndpointRecord,
  | "state"
  | "last_tick_at"
  | "charged"
  | "captured"
  | "written_off"
  | "held"
  | "queued_since"
  | "queue_depth"
  | "init_failures"
>;
type Knob =
  | "min_instances"
  | "max_instances"
  | "idle_timeout_s"
  | "scale_up_queue_delay_s"
  | "init_timeout_s"
  | "max_hourly_spend";

export type Admission =
  | { ok: true; pool: string; model: string; gpu_class: string; runtime: string }
  | { ok: false; code: "insufficient_credits" | "conflict" | "not_found"; message: string };

export interface EndpointSnapshot {
  record: EndpointRecord;
  instances: InstanceRow[];
  now: number;
}

/**
 * One per dedicated endpoint: its instances' states, its metering and its money ticks, all by its own clock. Agents
 * are reserved through D1 (exclusive), money moves through the account's running hold (ticks idempotent by seq), the
 * queue lives in the endpoint's private broker pool; the arithmetic and the scaling policy are in metering.ts.
 * With ENDPOINT_CLOCK=manual (tests only) the clock moves only through `advance`, which runs the same steps the alarm
 * runs, so an hour is simulated exactly.
 */
export class Endpoint extends DurableObject<Env> {
  private db: EndpointSql;
  private ports: EndpointPorts;
  private manual: boolean;
  private busy: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new EndpointSql(ctx.storage.sql);
    this.ports = endpointPorts(env);
    this.manual = env.ENDPOINT_CLOCK === "manual";
    ctx.blockConcurrencyWhile(async () => this.db.migrate());
  }

  private now(): number {
    return this.manual ? (this.db.clock() ?? Date.now()) : Date.now();
  }

  /** One operation at a time: steps await the ledger and D1, and must not interleave with each other. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }

  private rec(): EndpointRecord {
    const r = this.db.record();
    if (!r) throw new Error("endpoint not created");
    return r;
  }

  async create(r: EndpointConfig): Promise<EndpointSnapshot> {
    return this.serial(async () => {
      if (!this.db.record()) {
        const now = Date.now();
        if (this.manual) this.db.setClock(now);
        this.db.save({
          ...r,
          created_at: now,
          state: "pending",
          last_tick_at: now,
          charged: 0,
          captured: 0,
          written_off: 0,
          held: 0,
          queued_since: null,
          queue_depth: 0,
          init_failures: 0,
        });
        await this.step(now);
      }
      return this.snapshot();
    });
  }

  async snapshot(): Promise<EndpointSnapshot> {
    return { record: this.rec(), instances: this.db.instances(), now: this.now() };
  }

  /** A request for the endpoint: a stopped endpoint refuses it; one with nothing live is woken (hold first). */
  async admit(): Promise<Admission> {
    return this.serial(async () => {
      const e = this.db.record();
      if (!e || e.state === "deleted") return { ok: false, code: "not_found", message: "endpoint not found" };
      if (e.state === "suspended") {
        return {
          ok: false,
          code: "insufficient_credits",
          message: "endpoint is suspended: the account's credit ran out; add credit and resume it",
        };
      }
      if (e.state === "paused") return { ok: false, code: "conflict", message: "endpoint is paused: resume it first" };
      if (e.state === "failed") {
        return { ok: false, code: "conflict", message: "endpoint failed: no instance became ready; see its instances" };
      }
      if (this.db.live().length === 0) {
        const need = holdTarget(e.price_per_hour, 1, e.max_hourly_spend);
        const raised = await this.ports.raiseHold(e.account_id, e.plan as Plan, e.id, need);
        if (!raised.ok) {
          const message = `waking the endpoint needs ${need} micro-USD of runway; ${raised.available} available`;
          return { ok: false, code: "insufficient_credits", message };
        }
        const now = this.now();
        this.db.save({ ...e, held: raised.held });
        // The request is not in the pool yet: the wake counts it as queued so one instance is reserved for it now.
        const waking = { ...this.rec(), queue_depth: Math.max(1, e.queue_depth), queued_since: e.queued_since ?? now };
        await scaleUp(this.host(), waking, now);
        this.deriveState();
        await this.schedule(now);
      }
      return { ok: true, pool: `ep:${e.id}`, model: e.model, gpu_class: e.gpu_class, runtime: e.runtime };
    });
  }

  /** An agent reserved for this endpoint polled or heartbeat: it is alive; the reply says whether it still is ours. */
  async seen(agentId: string, epoch: number): Promise<{ active: boolean; ready: boolean; draining: boolean }> {
    return this.serial(async () => {
      const i = this.db.byAgent(agentId, epoch);
      if (!i || !LIVE.has(i.state)) return { active: false, ready: false, draining: false };
      const now = this.now();
      const next = { ...i, last_hb: now };
      if (i.state === "reserving") Object.assign(next, { state: "loading", since: now });
      this.db.update(next);
      return {
        active: true,
        ready: next.state === "ready" || next.state === "busy",
        draining: next.state === "draining",
      };
    });
  }

  /** The agent loaded the model: the instance is ready and its billed session starts now, by this clock. */
  async ready(agentId: string, epoch: number): Promise<{ ok: boolean }> {
    return this.serial(async () => {
      const i = this.db.byAgent(agentId, epoch);
      if (!i || (i.state !== "loading" && i.state !== "reserving")) return { ok: !!i && LIVE.has(i.state) };
      const now = this.now();
      this.db.update({ ...i, state: "ready", since: now, ready_at: now, last_hb: now, idle_since: now });
      const e = this.rec();
      this.db.save({ ...e, init_failures: 0, state: ACTIVE.has(e.state) ? "running" : e.state });
      await this.schedule(now);
      return { ok: true };
    });
  }

  async patch(p: Partial<Pick<EndpointRecord, Knob>>): Promise<EndpointSnapshot> {
    return this.serial(async () => {
      const e = this.rec();
      this.db.save({ ...e, ...p });
      if (ACTIVE.has(e.state)) await this.step(this.now());
      return this.snapshot();
    });
  }

  /**
   * pause / delete: idle instances are released now and busy ones drain (their requests finish), each billed to the
   * second of its release; the rest of the hold is released once none is left.
   */
  async stop(to: "paused" | "deleted"): Promise<EndpointSnapshot> {
    return this.serial(async () => {
      const e = this.rec();
      if (e.state === "deleted") return this.snapshot();
      const now = this.now();
      this.db.save({ ...e, state: to });
      for (const i of this.db.live()) {
        if (i.state === "busy") this.db.update({ ...i, state: "draining", since: now });
        else if (i.state !== "draining") await this.release(i, now, to);
      }
      if (this.db.live().length === 0) await this.money(now, true);
      await this.schedule(now);
      return this.snapshot();
    });
  }

  /** resume (from paused or suspended): needs the runway for min_instances up front. */
  async resume(): Promise<EndpointSnapshot | { error: string; available: number }> {
    return this.serial(async () => {
      const e = this.rec();
      if (e.state !== "paused" && e.state !== "suspended") return this.snapshot();
      const target = holdTarget(e.price_per_hour, e.min_instances, e.max_hourly_spend);
      const raised = await this.ports.raiseHold(e.account_id, e.plan as Plan, e.id, target);
      if (!raised.ok) return { error: "insufficient_credits", available: raised.available };
      const now = this.now();
      this.db.save({ ...e, state: "pending", held: raised.held, last_tick_at: now, init_failures: 0 });
      await this.step(now);
      return this.snapshot();
    });
  }

  /** Test clock only: moves the clock forward, running every step the alarm would have run on the way. */
  async advance(ms: number): Promise<EndpointSnapshot> {
    if (!this.manual) throw new Error("advance needs ENDPOINT_CLOCK=manual (tests)");
    return this.serial(async () => {
      let left = ms;
      while (left > 0) {
        const d = Math.min(STEP_MS, left);
        const now = this.now() + d;
        this.db.setClock(now);
        left -= d;
        if (this.wants()) await this.step(now);
      }
      return this.snapshot();
    });
  }

  override async alarm(): Promise<void> {
    if (this.manual) return;
    await this.serial(async () => {
      const e = this.db.record();
      if (e && this.wants()) await this.step(this.now());
    });
  }

  /** Whether the endpoint has anything to look after: it is active, or instances or money are still out. */
  private wants(): boolean {
    const e = this.rec();
    return ACTIVE.has(e.state) || this.db.live().length > 0 || e.held > 0 || this.db.pendingTicks().length > 0;
  }

  // ---- the step: instances, scaling, money --------------------------------------------------------------------------

  private async step(now: number): Promise<void> {
    await this.resendTicks();
    let e = this.rec();
    const stats = await this.ports.poolStats(e.id);
    e = { ...e, queue_depth: stats.queued, queued_since: stats.queued > 0 ? (e.queued_since ?? now) : null };
    this.db.save(e);
    for (const i of this.db.live()) {
      const running = stats.running[i.agent_id] ?? 0;
      if (now - i.last_hb > LOST_AFTER_MS) {
        await this.release(i, now, "lost");
      } else if ((i.state === "reserving" || i.state === "loading") && now - i.reserved_at > e.init_timeout_s * 1000) {
        await this.release(i, now, "init_timeout");
      } else if (i.state === "ready" || i.state === "busy") {
        const state = running > 0 ? "busy" : "ready";
        const idleSince = running > 0 ? null : (i.idle_since ?? now);
        if (state !== i.state || idleSince !== i.idle_since) {
          this.db.update({ ...i, state, since: state !== i.state ? now : i.since, idle_since: idleSince });
        }
      } else if (i.state === "draining" && running === 0) {
        await this.release(i, now, "drained");
      }
    }
    e = this.rec();
    if (ACTIVE.has(e.state)) {
      await scaleDown(this.host(), e, now);
      await scaleUp(this.host(), this.rec(), now);
    }
    const stopped = !ACTIVE.has(this.rec().state) && this.db.live().length === 0 && this.rec().held > 0;
    // A suspended endpoint whose last instance has drained settles and gives the rest of its hold back.
    if (stopped) await this.money(now, true);
    else if (now - this.rec().last_tick_at >= TICK_MS) await this.money(now, false);
    this.deriveState();
    if (this.rec().state === "failed") {
      for (const i of this.db.live()) await this.release(i, now, "failed");
      await this.money(now, true);
    }
    await this.schedule(now);
  }

  private host(): ScalingHost {
    return {
      db: this.db,
      ports: this.ports,
      rec: () => this.rec(),
      release: (i, now, reason) => this.release(i, now, reason),
    };
  }

  /**
   * Ends an instance's session: billed ready → now (60 s minimum), or → its last heartbeat when lost (no minimum),
   * nothing when it never became ready.
   */
  private async release(i: InstanceRow, now: number, reason: string): Promise<void> {
    const lost = reason === "lost";
    const end = lost ? i.last_hb : now;
    const billed = i.ready_at === null ? 0 : sessionBilledMs(i.ready_at, end, lost);
    this.db.update({
      ...i,
      state: lost ? "lost" : "released",
      since: now,
      released_at: end,
      billed_ms: billed,
      reason,
    });
    if (reason === "init_timeout") {
      const e = this.rec();
      this.db.save({ ...e, init_failures: e.init_failures + 1 });
    }
    await this.ports.free(i.agent_id, this.rec().id, i.epoch);
  }

  /**
   * A money tick: capture what accrued since the last one and top the hold up to the runway of the live instances.
   * The tick is written before it is sent and resent after a crash (the ledger applies each seq once).
   */
  private async money(now: number, close: boolean): Promise<void> {
    const e = this.rec();
    // Draining instances still run (and bill) until released: the hold keeps covering them.
    const live = this.db.live().filter((i) => i.state !== "draining" || !ACTIVE.has(e.state)).length;
    const t = nextTick(e, this.db.instances(), live, this.db.nextSeq(), close);
    const body = JSON.stringify(t.body);
    this.ctx.storage.transactionSync(() => {
      for (const i of t.reported) this.db.update(i);
      this.db.addTick(t.body.seq, body, now);
      this.db.save({ ...e, charged: t.total, last_tick_at: now });
    });
    await this.sendTick(t.body.seq, body);
  }

  private async resendTicks(): Promise<void> {
    for (const t of this.db.pendingTicks()) await this.sendTick(t.seq, t.body);
  }

  private async sendTick(seq: number, body: string): Promise<void> {
    const e = this.rec();
    const r = await this.ports.tick(e.account_id, e.id, JSON.parse(body));
    if (!r.ok || !("captured" in r)) return;
    this.ctx.storage.transactionSync(() => {
      this.db.doneTick(seq, r.captured, r.written_off);
      const cur = this.rec();
      const suspend = !r.topped_up && ACTIVE.has(cur.state);
      this.db.save({
        ...cur,
        captured: cur.captured + r.captured,
        written_off: cur.written_off + r.written_off,
        held: r.held,
        state: suspend ? "suspended" : cur.state,
      });
    });
    // Idempotent by split: a failed delivery is logged, and the split stays in the account's ledger (splitsOf).
    if (r.split_ids.length) {
      await this.ports
        .deliverSplits(e.account_id, r.split_ids)
        .catch((err) =>
          console.error(
            JSON.stringify({ level: "warn", message: "provider earnings delivery failed", error: String(err) }),
          ),
        );
    }
    if (this.rec().state === "suspended") {
      await this.suspend(this.now());
      if (this.db.live().length === 0 && this.rec().held > 0) await this.money(this.now(), true);
    }
  }

  /** Out of credit: idle instances go now, busy ones drain (their requests finish), nothing new is admitted. */
  private async suspend(now: number): Promise<void> {
    for (const i of this.db.live()) {
      if (i.state === "busy") this.db.update({ ...i, state: "draining", since: now });
      else if (i.state !== "draining") await this.release(i, now, "suspended");
    }
  }

  private deriveState(): void {
    const e = this.rec();
    if (!ACTIVE.has(e.state)) return;
    const live = this.db.live();
    let state = e.state;
    if (e.init_failures >= MAX_INIT_FAILURES && !live.some((i) => i.ready_at !== null)) state = "failed";
    else if (live.some((i) => i.state === "ready" || i.state === "busy")) state = "running";
    else if (live.length > 0) state = "provisioning";
    else if (e.min_instances === 0 && e.queue_depth === 0) state = "scaled_to_zero";
    else state = e.state === "pending" ? "pending" : "provisioning";
    if (state !== e.state) this.db.save({ ...e, state });
  }

  private async schedule(now: number): Promise<void> {
    if (this.manual) return;
    const e = this.rec();
    const waiting = e.state === "pending" || e.state === "provisioning" || e.queue_depth > 0;
    const owed = this.db.live().length > 0 || this.db.pendingTicks().length > 0 || e.held > 0;
    if (waiting || owed) await this.ctx.storage.setAlarm(now + STEP_MS);
  }
}
