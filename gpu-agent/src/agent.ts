import type { GpuClass, LeasedJob } from "../../schemas/index.ts";
import { COMFY_SPEC_KEY, type ComfyRequirements } from "../../schemas/manifest.ts";
import { AgentClient } from "./client.ts";
import type { AgentConfig } from "./config.ts";
import { DeviceSlots, JobRunner, type JobContext, type Running } from "./job.ts";
import type { Log } from "./log.ts";
import type { RuntimeAdapter } from "./runtimes/types.ts";
import { detect, type Inventory } from "./gpu/inventory.ts";
import { NullMeter, NvidiaSmiMeter, type GpuMeter } from "./gpu/meter.ts";
import { Metrics } from "./metrics.ts";
import { agentClassifier, type Classifier } from "./moderation.ts";
import { ModelCache } from "./cache.ts";
import { DedicatedReservation } from "./dedicated.ts";
import { fillCache, mapModels, preload } from "./setup.ts";

export const VERSION = "0.1.0";

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
  private jobContext: JobContext;
  private classifier: ReturnType<typeof agentClassifier>;

  private cfg: AgentConfig;
  private runtimes: RuntimeAdapter[];
  private log: Log;

  private inventory: Inventory | null;
  private meter: GpuMeter | null;
  private gpuClass: GpuClass = "cpu";
  private dedicated: DedicatedReservation;

  /** `inventory` and `meter` are detected from nvidia-smi unless given (tests pass recorded ones). */
  constructor(
    cfg: AgentConfig,
    runtimes: RuntimeAdapter[],
    log: Log,
    opts: { inventory?: Inventory; meter?: GpuMeter; classifier?: Classifier | null } = {},
  ) {
    this.cfg = cfg;
    this.runtimes = runtimes;
    this.log = log;
    this.client = new AgentClient(cfg.platformUrl, cfg.token);
    this.inventory = opts.inventory ?? null;
    this.meter = opts.meter ?? null;
    this.device = new DeviceSlots(cfg.slots);
    this.classifier = agentClassifier(runtimes);
    this.cache = new ModelCache(cfg.cacheDir, cfg.cacheBudgetGiB * 2 ** 30);
    this.dedicated = new DedicatedReservation(this.client, (m) => this.modelRuntime.get(m), log);
    this.metrics.gauge("gpu_agent_slots_total", "device execution slots", () => cfg.slots);
    this.metrics.gauge("gpu_agent_slots_busy", "device slots running a job now", () => this.device.busy());
    this.metrics.gauge("gpu_agent_jobs_held", "jobs leased (running or prefetched)", () => this.running.size);
    this.jobContext = {
      client: this.client,
      device: this.device,
      metrics: this.metrics,
      stats: this.stats,
      meter: () => this.meter!,
      gpuClass: () => this.gpuClass,
      runtimeFor: (job) => this.runtimeFor(job),
      classifier: opts.classifier === undefined ? this.classifier.classify : opts.classifier,
    };
  }

  /** Detects the hardware, maps models to runtimes, fills the cache, warms the models, registers, then leases. */
  async start(): Promise<void> {
    await this.detectHardware();
    ({ modelRuntime: this.modelRuntime, comfyCaps: this.comfyCaps } = await mapModels(this.runtimes, this.cfg.models));
    this.cached = await fillCache(this.cache, this.cfg.modelSources, (m) => this.modelRuntime.has(m), this.log);
    if (this.cfg.preload) await preload(this.modelRuntime, this.log);
    if (!(await this.register())) return;
    await this.loop();
  }

  private async detectHardware(): Promise<void> {
    this.inventory ??= await detect();
    this.meter ??= this.inventory.gpus.length > 0 ? new NvidiaSmiMeter() : new NullMeter();
    this.gpuClass = this.cfg.gpuClass === "auto" ? this.inventory.gpu_class : this.cfg.gpuClass;
    const { gpus, driver, cuda } = this.inventory;
    this.log.info({ gpu_class: this.gpuClass, gpus: gpus.map((g) => g.name), driver, cuda }, "inventory");
  }

  /** A catalog model's runtime, or for a private ComfyUI graph (it travels in the job) the runtime it names. */
  private runtimeFor(job: LeasedJob): RuntimeAdapter | undefined {
    const graph = COMFY_SPEC_KEY in job.input;
    return (
      this.modelRuntime.get(job.model) ??
      (graph ? this.runtimes.find((rt) => rt.name === job.runtime && rt.capabilities) : undefined)
    );
  }

  /** Registers, retrying with backoff until the platform answers; false when a drain came first. */
  private async register(): Promise<boolean> {
    const inv = this.inventory!;
    const body = {
      name: this.cfg.name,
      version: VERSION,
      gpu_class: this.gpuClass,
      slots: this.cfg.slots,
      gpus: inv.gpus,
      driver: inv.driver,
      cuda: inv.cuda,
      runtimes: [...new Set(this.runtimes.map((r) => r.name))],
      models: [...this.modelRuntime.keys()],
    };
    for (let attempt = 0; ; attempt++) {
      const reg = await this.client.register(body);
      if (reg.ok) {
        this.client.agentId = reg.value.agent_id;
        this.log.info({ agent_id: reg.value.agent_id, models: body.models }, "registered");
        this.heartbeatTimer = setInterval(() => void this.heartbeat(), reg.value.heartbeat_interval_ms);
        return true;
      }
      if (reg.kind === "http" && reg.status === 401) throw new Error(`registration refused: ${reg.message}`);
      if (this.draining) return false;
      this.log.warn({ err: reg.message }, "register failed; retrying");
      await sleep(Math.min(10_000, 500 * 2 ** attempt));
    }
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
      await this.releaseJob(r.job);
    }
    clearInterval(this.heartbeatTimer);
    this.meter?.close();
    await Promise.all([...this.runtimes.map((r) => r.close()), this.classifier.close()]);
  }

  /** Models in memory that this agent serves (the moderation classifier may be loaded without being served). */
  private loaded(): string[] {
    return [...new Set(this.runtimes.flatMap((r) => r.loaded()))].filter((m) => this.modelRuntime.has(m));
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
      const res = await this.client.lease(this.leaseRequest(free), this.leaseAbort.signal);
      if (this.draining) {
        // A lease that raced the drain signal is handed straight back.
        if (res.ok) for (const j of res.value?.jobs ?? []) await this.releaseJob(j);
        break;
      }
      if (!res.ok) {
        const refused = res.kind === "http" && (res.status === 401 || res.status === 403);
        if (refused) throw new Error(`lease refused: ${res.message}`);
        this.log.warn({ err: res.message }, "lease failed; backing off");
        await sleep(backoff + Math.random() * backoff);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      backoff = 250;
      if (this.cfg.dedicated) await this.dedicated.onAssignment(res.value?.assignment);
      for (const job of res.value?.jobs ?? []) this.startJob(job);
    }
  }

  private leaseRequest(free: number) {
    return {
      slots_free: free,
      loaded_models: this.loaded(),
      cached_models: this.cached,
      wait_ms: this.cfg.leaseWaitMs,
      // every device slot is busy: this lease only fills the prefetch queue
      prefetch: this.running.size >= this.cfg.slots,
      // custom node types and model files of the ComfyUI backend, for private graphs
      ...(this.comfyCaps ? { comfyui: this.comfyCaps } : {}),
      ...(this.cfg.dedicated ? { dedicated: true } : {}),
    };
  }

  private startJob(job: LeasedJob): void {
    const r: Running = { job, aborted: null, leaseExpiresAt: job.lease_expires_at };
    this.running.set(job.job_id, r);
    void new JobRunner(this.jobContext, r, this.log).execute().finally(() => {
      this.running.delete(job.job_id);
      this.slotFreed?.();
      this.slotFreed = null;
    });
  }

  private releaseJob(j: LeasedJob) {
    return this.client.release(j.job_id, { lease_id: j.lease_id, epoch: j.epoch, reason: "draining" });
  }

  private async heartbeat(): Promise<void> {
    if (this.running.size === 0) return;
    const leases = [...this.running.values()].map((r) => ({
      job_id: r.job.job_id,
      lease_id: r.job.lease_id,
      ...(r.progress ? { progress: r.progress } : {}),
    }));
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
}
