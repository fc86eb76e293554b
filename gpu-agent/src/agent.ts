import type { LeasedJob } from "../../schemas/index.ts";
import { COMFY_SPEC_KEY, type ComfyRequirements } from "../../schemas/manifest.ts";
import { AgentClient } from "./client.ts";
import type { AgentConfig } from "./config.ts";
import { JobAborted, JobError } from "./errors.ts";
import type { Log } from "./log.ts";
import type { InputFile, RuntimeAdapter } from "./runtimes/types.ts";
import { detect, type Inventory } from "./gpu/inventory.ts";
import { NullMeter, NvidiaSmiMeter, type GpuMeter } from "./gpu/meter.ts";
import { Metrics } from "./metrics.ts";
import { ModelCache, progressPrinter, type ModelSource } from "./cache.ts";
import { readFileSync } from "node:fs";
import type { DedicatedAssignment, GpuClass } from "../../schemas/index.ts";

export const VERSION = "0.1.0";

interface Running {
  job: LeasedJob;
  aborted: string | null;
  leaseExpiresAt: number;
  /** the latest progress the runtime reported, sent on the next heartbeat */
  progress?: { step: number; total: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The lease loop: register, long-poll for jobs while slots are free, run each through its runtime, heartbeat every
 * running lease on a timer of its own, and drain on SIGTERM. One bad job never stops the loop.
 */
export class Agent {
  private client: AgentClient;
  private running = new Map<string, Running>();
  private draining = false;
  private leaseAbort = new AbortController();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private slotFreed: (() => void) | null = null;
  private modelRuntime = new Map<string, RuntimeAdapter>();
  /** custom node types and model files of the ComfyUI backend, declared on every lease for private graphs */
  private comfyCaps: ComfyRequirements | undefined;
  readonly stats = { completed: 0, failed: 0, dropped: 0 };
  readonly metrics = new Metrics();
  private cache: ModelCache;
  private cached: string[] = [];
  private device!: DeviceSlots;

  private cfg: AgentConfig;
  private runtimes: RuntimeAdapter[];
  private log: Log;

  private inventory: Inventory | null;
  private meter: GpuMeter | null;
  private gpuClass: GpuClass = "cpu";
  /** the dedicated endpoint this agent is reserved for and has loaded the model of (`endpoint:epoch`) */
  private assignedTo: string | null = null;

  /** `inventory` and `meter` are detected from nvidia-smi unless given (tests pass recorded ones). */
  constructor(cfg: AgentConfig, runtimes: RuntimeAdapter[], log: Log, opts: { inventory?: Inventory; meter?: GpuMeter } = {}) {
    this.cfg = cfg;
    this.runtimes = runtimes;
    this.log = log;
    this.client = new AgentClient(cfg.platformUrl, cfg.token);
    this.inventory = opts.inventory ?? null;
    this.meter = opts.meter ?? null;
    this.device = new DeviceSlots(cfg.slots);
    this.cache = new ModelCache(cfg.cacheDir, cfg.cacheBudgetGiB * 2 ** 30);
    this.metrics.gauge("gpu_agent_slots_total", "device execution slots", () => cfg.slots);
    this.metrics.gauge("gpu_agent_slots_busy", "device slots running a job now", () => this.device.busy());
    this.metrics.gauge("gpu_agent_jobs_held", "jobs leased (running or prefetched)", () => this.running.size);
  }

  async start(): Promise<void> {
    this.inventory ??= await detect();
    this.meter ??= this.inventory.gpus.length > 0 ? new NvidiaSmiMeter() : new NullMeter();
    this.gpuClass = this.cfg.gpuClass === "auto" ? this.inventory.gpu_class : this.cfg.gpuClass;
    this.log.info({ gpu_class: this.gpuClass, gpus: this.inventory.gpus.map((g) => g.name), driver: this.inventory.driver, cuda: this.inventory.cuda }, "inventory");
    for (const rt of this.runtimes) {
      for (const m of await rt.models()) {
        if (!this.cfg.models || this.cfg.models.includes(m)) this.modelRuntime.set(m, rt);
      }
    }
    if (this.modelRuntime.size === 0) throw new Error("no runtime offers any of the configured models");
    const graphs = this.runtimes.find((rt) => rt.capabilities);
    this.comfyCaps = graphs ? await graphs.capabilities!().catch(() => undefined) : undefined;
    if (this.cfg.modelSources) {
      // weights this host keeps on disk: fetched (with progress) before the agent reports them cached
      const sources = JSON.parse(readFileSync(this.cfg.modelSources, "utf8")) as Record<string, ModelSource>;
      for (const [model, src] of Object.entries(sources)) {
        await this.cache.ensure(model, src, progressPrinter((m) => this.log.info(m)));
      }
    }
    this.cached = (await this.cache.models().catch(() => [])).filter((m) => this.modelRuntime.has(m));
    if (this.cfg.preload) {
      for (const [m, rt] of this.modelRuntime) {
        const t = performance.now();
        this.log.info({ model: m }, "loading model and running warm-up inference");
        await rt.warm(m);
        this.log.info({ model: m, load_ms: Math.round(performance.now() - t) }, "model ready");
      }
    }
    let reg;
    for (let attempt = 0; ; attempt++) {
      reg = await this.client.register({
        name: this.cfg.name, version: VERSION, gpu_class: this.gpuClass, gpus: this.inventory.gpus,
        driver: this.inventory.driver, cuda: this.inventory.cuda,
        runtimes: [...new Set(this.runtimes.map((r) => r.name))], models: [...this.modelRuntime.keys()], slots: this.cfg.slots,
      });
      if (reg.ok) break;
      if (reg.kind === "http" && reg.status === 401) throw new Error(`registration refused: ${reg.message}`);
      if (this.draining) return;
      this.log.warn({ err: reg.message }, "register failed; retrying");
      await sleep(Math.min(10_000, 500 * 2 ** attempt));
    }
    this.client.agentId = reg.value.agent_id;
    this.log.info({ agent_id: reg.value.agent_id, models: [...this.modelRuntime.keys()] }, "registered");
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), reg.value.heartbeat_interval_ms);
    await this.loop();
  }

  /** Stop leasing, let running jobs finish within the grace period, release the rest, and return. */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.log.info({ running: this.running.size }, "draining");
    this.leaseAbort.abort();
    // The aborted long-poll is still parked in the broker: drop it so no job is handed to a request nobody reads.
    if (this.client.agentId) await this.client.deregister();
    const deadline = Date.now() + this.cfg.drainGraceMs;
    while (this.running.size > 0 && Date.now() < deadline) await sleep(100);
    for (const r of this.running.values()) {
      r.aborted = "draining";
      await this.client.release(r.job.job_id, { lease_id: r.job.lease_id, epoch: r.job.epoch, reason: "draining" });
    }
    clearInterval(this.heartbeatTimer);
    this.meter?.close();
    await Promise.all(this.runtimes.map((r) => r.close()));
  }

  private loaded(): string[] {
    return [...new Set(this.runtimes.flatMap((r) => r.loaded()))];
  }

  private async loop(): Promise<void> {
    let backoff = 250;
    while (!this.draining) {
      // Lease up to the device slots plus the prefetch queue; a prefetched job downloads its inputs and waits for a
      // slot, so the next run starts the moment the previous one ends.
      const free = this.cfg.slots + this.cfg.prefetch - this.running.size;
      if (free <= 0) {
        await new Promise<void>((r) => (this.slotFreed = r));
        continue;
      }
      const prefetch = this.running.size >= this.cfg.slots;
      const res = await this.client.lease({ slots_free: free, loaded_models: this.loaded(), cached_models: this.cached, wait_ms: this.cfg.leaseWaitMs, prefetch, ...(this.comfyCaps ? { comfyui: this.comfyCaps } : {}), ...(this.cfg.dedicated ? { dedicated: true } : {}) }, this.leaseAbort.signal);
      if (this.draining) {
        // A lease that raced the drain signal is handed straight back.
        if (res.ok && res.value) for (const j of res.value.jobs) await this.client.release(j.job_id, { lease_id: j.lease_id, epoch: j.epoch, reason: "draining" });
        break;
      }
      if (!res.ok) {
        if (res.kind === "http" && (res.status === 401 || res.status === 403)) throw new Error(`lease refused: ${res.message}`);
        this.log.warn({ err: res.message }, "lease failed; backing off");
        await sleep(backoff + Math.random() * backoff);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      backoff = 250;
      if (this.cfg.dedicated) await this.onAssignment(res.value?.assignment);
      for (const job of res.value?.jobs ?? []) {
        const r: Running = { job, aborted: null, leaseExpiresAt: job.lease_expires_at };
        this.running.set(job.job_id, r);
        void this.execute(r).finally(() => {
          this.running.delete(job.job_id);
          this.slotFreed?.();
          this.slotFreed = null;
        });
      }
    }
  }

  /**
   * A dedicated reservation arrived (or ended): load the endpoint's model, then report ready, after which the
   * platform sends only that endpoint's jobs. Loading is never billed; the endpoint bills from the readiness report.
   */
  private async onAssignment(a: DedicatedAssignment | undefined): Promise<void> {
    const key = a ? `${a.endpoint_id}:${a.epoch}` : null;
    if (key === this.assignedTo) return;
    if (!a) {
      this.log.info({ endpoint_id: this.assignedTo }, "dedicated reservation ended; back to the shared pool");
      this.assignedTo = null;
      return;
    }
    const rt = this.modelRuntime.get(a.model);
    if (!rt) {
      this.log.warn({ endpoint_id: a.endpoint_id, model: a.model }, "reserved for a model this agent does not serve");
      await sleep(1000); // the endpoint's init timeout releases it; meanwhile do not spin on instant lease replies
      return;
    }
    const t = performance.now();
    this.log.info({ endpoint_id: a.endpoint_id, model: a.model }, "reserved for a dedicated endpoint; loading the model");
    try {
      await rt.warm(a.model);
    } catch (e) {
      // Not reporting ready lets the endpoint's init timeout release this agent and try another.
      this.log.warn({ endpoint_id: a.endpoint_id, err: String(e) }, "model load failed; the endpoint will try another agent");
      return;
    }
    const r = await this.client.dedicatedReady(a.endpoint_id, a.epoch);
    if (r.ok) this.assignedTo = key;
    this.log.info({ endpoint_id: a.endpoint_id, ok: r.ok, load_ms: Math.round(performance.now() - t) }, "dedicated instance ready");
  }

  private async heartbeat(): Promise<void> {
    if (this.running.size === 0) return;
    const leases = [...this.running.values()].map((r) => ({ job_id: r.job.job_id, lease_id: r.job.lease_id, ...(r.progress ? { progress: r.progress } : {}) }));
    const res = await this.client.heartbeat(leases, this.cfg.dedicated);
    if (!res.ok) {
      this.log.warn({ err: res.message }, "heartbeat failed");
      return;
    }
    for (const e of res.value.extended) {
      const r = this.running.get(e.job_id);
      if (r) r.leaseExpiresAt = e.lease_expires_at;
    }
    for (const c of res.value.cancel) {
      const r = this.running.get(c.job_id);
      if (r && !r.aborted) {
        r.aborted = c.reason;
        this.log.info({ job_id: c.job_id, reason: c.reason }, "platform stopped the job");
        // backends that can stop a prediction are told to; the result of the others is dropped
        void this.runtimeFor(r.job)?.cancel?.(c.job_id);
      }
    }
  }

  /** A catalog model's runtime, or for a private ComfyUI graph (it travels in the job) the runtime it names. */
  private runtimeFor(job: LeasedJob): RuntimeAdapter | undefined {
    return this.modelRuntime.get(job.model) ?? (COMFY_SPEC_KEY in job.input ? this.runtimes.find((rt) => rt.name === job.runtime && rt.capabilities) : undefined);
  }

  private async execute(r: Running): Promise<void> {
    const { job } = r;
    const log = this.log.child({ job_id: job.job_id, model: job.model, attempt: job.attempt });
    const rt = this.runtimeFor(job);
    let deviceHeld = false;
    try {
      if (!rt) throw new JobError("model_unavailable", `this agent does not serve ${job.model}`, true);
      const files: Record<string, InputFile> = {};
      const params: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(job.input)) {
        if (typeof v === "string" && v.startsWith("/agent/v1/jobs/")) {
          const got = await this.client.input(v, job.lease_id);
          if (!got.ok) throw new JobError("runtime_error", `input ${k}: ${got.message}`, true);
          files[k] = got.value;
        } else params[k] = v;
      }
      if (r.aborted) throw new JobAborted(r.aborted);
      await this.device.acquire();
      deviceHeld = true;
      if (r.aborted) throw new JobAborted(r.aborted);
      const gap = this.device.gapMs();
      if (gap !== null) this.metrics.observe("gpu_agent_device_idle_gap_seconds", "device idle time between consecutive runs", gap / 1000, [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5]);
      log.info(gap === null ? {} : { device_gap_ms: gap }, "running");
      const windowStart = this.meter!.now();
      let out;
      try {
        out = await rt.run({ jobId: job.job_id, model: job.model, params, files, onProgress: (p) => (r.progress = p) });
      } catch (e) {
        // Out of memory: the backend has freed what it could; one more try here, then it is the input's size.
        if (!(e instanceof JobError && e.kind === "oom") || r.aborted) throw e;
        log.warn({ err: e.message }, "out of memory; freeing memory and retrying once");
        await rt.free?.();
        try {
          out = await rt.run({ jobId: job.job_id, model: job.model, params, files, onProgress: (p) => (r.progress = p) });
        } catch (e2) {
          if (e2 instanceof JobError && e2.kind === "oom") throw new JobError("oom", e2.message, false);
          throw e2;
        }
      }
      const evidence = this.meter!.evidence(windowStart + out.loadMs, this.meter!.now());
      this.device.release();
      deviceHeld = false;
      if (r.aborted) throw new JobAborted(r.aborted);
      for (const o of out.outputs) {
        const up = await this.retryUntilLeaseEnds(r, () => this.client.upload(job.job_id, job.lease_id, o.name, o.contentType, o.bytes));
        if (!up.ok) throw new JobAborted(`upload: ${up.message}`);
      }
      const done = await this.retryUntilLeaseEnds(r, () =>
        this.client.complete(job.job_id, {
          lease_id: job.lease_id, epoch: job.epoch,
          outputs: out.outputs.map((o) => ({ name: o.name, content_type: o.contentType, size: o.bytes.byteLength })),
          ...(out.json !== undefined ? { output_json: out.json } : {}),
          metrics: { gpu_ms: out.gpuMs, load_ms: out.loadMs, gpu_class: this.gpuClass, gpu_count: 1, ...(evidence ? { evidence } : {}) },
        }),
      );
      this.metrics.observe("gpu_agent_job_execution_seconds", "model execution wall time per job", out.gpuMs / 1000);
      if (evidence) this.metrics.inc("gpu_agent_gpu_busy_ms_total", "utilization-weighted GPU busy time seen by the meter", {}, evidence.busy_gpu_ms);
      this.metrics.inc("gpu_agent_jobs_total", "jobs finished, by outcome", { outcome: done.ok ? "completed" : "dropped" });
      if (done.ok) {
        this.stats.completed++;
        log.info({ gpu_ms: out.gpuMs, load_ms: out.loadMs }, "completed");
      } else {
        this.stats.dropped++;
        log.warn({ err: done.message }, "completion refused; result dropped");
      }
    } catch (e) {
      if (e instanceof JobAborted) {
        if (deviceHeld) this.device.release();
        this.metrics.inc("gpu_agent_jobs_total", "jobs finished, by outcome", { outcome: "stopped" });
        this.stats.dropped++;
        log.info({ reason: e.message }, "job stopped");
        return;
      }
      if (deviceHeld) {
        this.device.release();
        deviceHeld = false;
      }
      const je = e instanceof JobError ? e : new JobError("runtime_error", String(e), true);
      this.stats.failed++;
      this.metrics.inc("gpu_agent_jobs_total", "jobs finished, by outcome", { outcome: "failed" });
      this.metrics.inc("gpu_agent_failures_total", "failed jobs, by error kind", { kind: je.kind });
      log.warn({ kind: je.kind, err: je.message }, "job failed");
      await this.retryUntilLeaseEnds(r, () => this.client.fail(job.job_id, { lease_id: job.lease_id, epoch: job.epoch, kind: je.kind, message: je.message.slice(0, 2000), retryable: je.retryable }));
    }
  }

  /** On network loss the result is kept and re-sent until the lease runs out; a 4xx answer is final. */
  private async retryUntilLeaseEnds<T extends { ok: boolean; kind?: string }>(r: Running, fn: () => Promise<T>): Promise<T> {
    let delay = 200;
    for (;;) {
      const res = await fn();
      if (res.ok || res.kind !== "network" || Date.now() + delay > r.leaseExpiresAt) return res;
      await sleep(delay);
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

/** The device's execution slots, and the idle gap between one run ending and the next starting. */
class DeviceSlots {
  private free: number;
  private slots: number;
  private waiting: (() => void)[] = [];
  private lastEnd: number | null = null;
  constructor(slots: number) {
    this.free = slots;
    this.slots = slots;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    this.lastEnd = performance.now();
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
  busy(): number {
    return this.slots - this.free;
  }

  /** ms the device sat idle before the run starting now (null for the first run) */
  gapMs(): number | null {
    return this.lastEnd === null ? null : Math.round((performance.now() - this.lastEnd) * 10) / 10;
  }
}
