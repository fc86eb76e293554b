import type { LeasedJob } from "../../schemas/index.ts";
import { type AgentOffer, canRun } from "./job-broker-caps.ts";
import type { JobRow } from "./job-broker-sql.ts";
import type { BrokerStore } from "./job-broker-store.ts";
import type { AgentCaps } from "./job-broker-types.ts";
import type { JobEventLog } from "./job-events.ts";

/** How long an agent counts as connected after its last lease poll. */
const AGENT_SEEN_MS = 60_000;

/** An agent's parked long-poll, and the jobs handed to it while it waits. */
interface Waiter {
  caps: AgentCaps;
  jobs: LeasedJob[];
  wake: () => void;
}

/**
 * Matching queued jobs to agents: the agents' long-polls parked in memory, the capability check, and the
 * assignment of a lease (QUEUED → PROCESSING, a new lease id and fencing epoch).
 */
export class Dispatcher {
  private waiters = new Set<Waiter>();

  constructor(
    private store: BrokerStore,
    private events: JobEventLog,
    private leaseTtlMs: () => number,
  ) {}

  /** What the connected agents offer. */
  offers(now: number = Date.now()): AgentOffer[] {
    return this.store.agentOffers(now - AGENT_SEEN_MS);
  }

  /** Whether a connected agent could run this job. */
  capable(r: JobRow): boolean {
    return this.offers().some((a) => canRun(r, a));
  }

  /** Parks an agent's long-poll: returns at once when a job is queued for it, or after waitMs with none. */
  async park(caps: AgentCaps, waitMs: number): Promise<LeasedJob[]> {
    let wake!: () => void;
    const woken = new Promise<void>((r) => (wake = r));
    const waiter: Waiter = { caps, jobs: [], wake };
    this.waiters.add(waiter);
    try {
      this.run();
      if (waiter.jobs.length === 0 && waitMs > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([woken, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
        clearTimeout(timer);
      }
    } finally {
      this.waiters.delete(waiter);
    }
    return waiter.jobs;
  }

  /**
   * Ends an agent's parked long-polls (they return no job) and gives back the rows of the jobs already handed to
   * them that are still leased to them, for the broker to put back in the queue.
   */
  drop(agentId: string): JobRow[] {
    const handed: LeasedJob[] = [];
    for (const w of this.waiters) {
      if (w.caps.agent_id !== agentId) continue;
      handed.push(...w.jobs);
      w.jobs = [];
      this.waiters.delete(w);
      w.wake();
    }
    return handed.flatMap((j) => {
      const r = this.store.row(j.job_id);
      return r && r.status === "PROCESSING" && r.lease_id === j.lease_id ? [r] : [];
    });
  }

  /**
   * Matches queued jobs to waiting agents, highest priority first. For each job it prefers the waiting agent with the
   * model loaded in memory, then cached on disk, then any that fits, so warm agents get their models' work.
   */
  run(): void {
    if (this.waiters.size === 0) return;
    const queued = this.store.queued(200);
    const woken = new Set<Waiter>();
    for (const job of queued) {
      let best: Waiter | undefined;
      let bestScore = Infinity;
      for (const w of this.waiters) {
        if (w.jobs.length >= w.caps.slots_free) continue;
        if (!canRun(job, { ...w.caps, comfy: w.caps.comfyui ?? null })) continue;
        const warmth = w.caps.loaded_models.includes(job.model) ? 0 : w.caps.cached_models.includes(job.model) ? 1 : 2;
        const score = warmth * 2 + (w.caps.prefetch ? 1 : 0) + (job.input_rejected_by === w.caps.agent_id ? 10 : 0);
        if (score < bestScore) {
          best = w;
          bestScore = score;
        }
      }
      if (!best) continue;
      best.jobs.push(this.assign(job, best.caps));
      woken.add(best);
    }
    for (const w of woken) w.wake();
  }

  private assign(r: JobRow, caps: AgentCaps): LeasedJob {
    const now = Date.now();
    const lease = {
      id: crypto.randomUUID(),
      epoch: r.epoch + 1,
      attempt: r.attempt + 1,
      expires: now + this.leaseTtlMs(),
    };
    this.store.setLeased(r, lease, caps, now);
    this.events.append(r.id, "started", { attempt: lease.attempt }, now);
    return {
      job_id: r.id,
      lease_id: lease.id,
      epoch: lease.epoch,
      attempt: lease.attempt,
      model: r.model,
      runtime: r.runtime,
      input: JSON.parse(r.input) as Record<string, unknown>,
      lease_expires_at: lease.expires,
      execution_timeout_ms: r.exec_timeout_ms,
    };
  }
}
