import type { GpuClass, GpuEvidence, LeasedJob } from "../../schemas/index.ts";
import type { AgentClient } from "./client.ts";
import { JobAborted, JobError } from "./errors.ts";
import type { GpuMeter } from "./gpu/meter.ts";
import type { Log } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { ContentModerated, moderate, withReport, type Classifier, type Moderated } from "./moderation.ts";
import type { InputFile, RunOutput, RuntimeAdapter } from "./runtimes/types.ts";

/** A leased job while this agent holds it; `aborted` is set when the platform stops it. */
export interface Running {
  job: LeasedJob;
  aborted: string | null;
  leaseExpiresAt: number;
  /** the latest progress the runtime reported, sent on the next heartbeat */
  progress?: { step: number; total: number };
}

/** What the runner needs from the agent around it. */
export interface JobContext {
  client: AgentClient;
  device: DeviceSlots;
  metrics: Metrics;
  stats: { completed: number; failed: number; dropped: number };
  meter: () => GpuMeter;
  gpuClass: () => GpuClass;
  runtimeFor: (job: LeasedJob) => RuntimeAdapter | undefined;
  /** the NSFW classifier that output moderation runs; null without a built-in runtime */
  classifier: Classifier | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const JOBS = ["gpu_agent_jobs_total", "jobs finished, by outcome"] as const;

/**
 * Runs one leased job, step by step: fetch its inputs, wait for a device slot, run it (with one retry on out of
 * memory), moderate its image outputs when its policy asks, upload its outputs and complete it; any failure is
 * reported with its kind, and a stop from the platform drops the job without a report.
 */
export class JobRunner {
  private ctx: JobContext;
  private r: Running;
  private log: Log;
  private deviceHeld = false;

  constructor(ctx: JobContext, r: Running, log: Log) {
    this.ctx = ctx;
    this.r = r;
    this.log = log.child({ job_id: r.job.job_id, model: r.job.model, attempt: r.job.attempt });
  }

  async execute(): Promise<void> {
    try {
      const rt = this.ctx.runtimeFor(this.r.job);
      if (!rt) throw new JobError("model_unavailable", `this agent does not serve ${this.r.job.model}`, true);
      const { params, files } = await this.fetchInputs();
      const { out, evidence } = await this.runOnDevice(rt, params, files);
      const moderated = await this.moderate(out);
      await this.deliver(out, evidence, moderated);
    } catch (e) {
      this.releaseDevice();
      if (e instanceof JobAborted) this.stopped(e.message);
      else await this.failed(e instanceof JobError ? e : new JobError("runtime_error", String(e), true));
    }
  }

  /** Image inputs arrive inline (small) or as platform paths to download; everything else is a parameter. */
  private async fetchInputs(): Promise<{ params: Record<string, unknown>; files: Record<string, InputFile> }> {
    const { job } = this.r;
    const files: Record<string, InputFile> = {};
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(job.input)) {
      const inline = job.inline_inputs?.[k];
      if (inline && typeof v === "string" && v.startsWith("/agent/v1/jobs/")) {
        // small inputs ride in the lease reply: no round trip before the model runs
        files[k] = { bytes: new Uint8Array(Buffer.from(inline.data, "base64")), contentType: inline.content_type };
      } else if (typeof v === "string" && v.startsWith("/agent/v1/jobs/")) {
        const got = await this.ctx.client.input(v, job.lease_id);
        if (!got.ok) throw new JobError("runtime_error", `input ${k}: ${got.message}`, true);
        files[k] = got.value;
      } else params[k] = v;
    }
    this.checkAborted();
    return { params, files };
  }

  /** Holds a device slot only for the execution itself, and reads the meter over that window. */
  private async runOnDevice(rt: RuntimeAdapter, params: Record<string, unknown>, files: Record<string, InputFile>) {
    await this.ctx.device.acquire();
    this.deviceHeld = true;
    this.checkAborted();
    const gap = this.ctx.device.gapMs();
    if (gap !== null) {
      const help = "device idle time between consecutive runs";
      const buckets = [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5];
      this.ctx.metrics.observe("gpu_agent_device_idle_gap_seconds", help, gap / 1000, buckets);
    }
    this.log.info(gap === null ? {} : { device_gap_ms: gap }, "running");
    const meter = this.ctx.meter();
    const windowStart = meter.now();
    const out = await this.runWithOomRetry(rt, params, files);
    const evidence = meter.evidence(windowStart + out.loadMs, meter.now());
    this.releaseDevice();
    this.checkAborted();
    return { out, evidence };
  }

  /** Out of memory: the backend frees what it can and the job gets one more try; a second OOM is the input's size. */
  private async runWithOomRetry(rt: RuntimeAdapter, params: Record<string, unknown>, files: Record<string, InputFile>) {
    const r = this.r;
    const req = {
      jobId: r.job.job_id,
      model: r.job.model,
      params,
      files,
      onProgress: (p: { step: number; total: number }) => (r.progress = p),
    };
    try {
      return await rt.run(req);
    } catch (e) {
      if (!(e instanceof JobError && e.kind === "oom") || this.r.aborted) throw e;
      this.log.warn({ err: e.message }, "out of memory; freeing memory and retrying once");
      await rt.free?.();
      try {
        return await rt.run(req);
      } catch (e2) {
        if (e2 instanceof JobError && e2.kind === "oom") throw new JobError("oom", e2.message, false);
        throw e2;
      }
    }
  }

  /**
   * After the device is released (the classifier runs on the CPU while the next job takes the GPU): a blocked output
   * fails the job as `content_moderated` and is never uploaded.
   */
  private async moderate(out: RunOutput): Promise<Moderated | null> {
    const moderated = await moderate(this.r.job.job_id, out, this.r.job.moderation, this.ctx.classifier);
    if (!moderated) return null;
    this.ctx.metrics.observe("gpu_agent_moderation_seconds", "output moderation time per job", moderated.ms / 1000);
    this.log.info({ moderation_ms: moderated.ms, flagged: moderated.report.flagged }, "outputs moderated");
    this.checkAborted();
    if (moderated.report.flagged && moderated.report.policy === "block") {
      const gpu_class = this.ctx.gpuClass();
      const metrics = { gpu_ms: out.gpuMs, load_ms: out.loadMs, gpu_class, gpu_count: 1, moderation_ms: moderated.ms };
      throw new ContentModerated(moderated.report, metrics);
    }
    return moderated;
  }

  private async deliver(out: RunOutput, evidence: GpuEvidence | null, moderated: Moderated | null): Promise<void> {
    const { job } = this.r;
    const { client, metrics, stats } = this.ctx;
    const json = moderated ? withReport(out.json, moderated.report) : out.json;
    for (const o of out.outputs) {
      const upload = () => client.upload(job.job_id, job.lease_id, o.name, o.contentType, o.bytes);
      const up = await this.retryUntilLeaseEnds(upload);
      if (!up.ok) throw new JobAborted(`upload: ${up.message}`);
    }
    const done = await this.retryUntilLeaseEnds(() =>
      client.complete(job.job_id, {
        lease_id: job.lease_id,
        epoch: job.epoch,
        outputs: out.outputs.map((o) => ({ name: o.name, content_type: o.contentType, size: o.bytes.byteLength })),
        ...(json !== undefined ? { output_json: json } : {}),
        metrics: {
          gpu_ms: out.gpuMs,
          load_ms: out.loadMs,
          gpu_class: this.ctx.gpuClass(),
          gpu_count: 1,
          ...(evidence ? { evidence } : {}),
          ...(moderated ? { moderation_ms: moderated.ms } : {}),
        },
      }),
    );
    metrics.observe("gpu_agent_job_execution_seconds", "model execution wall time per job", out.gpuMs / 1000);
    if (evidence) {
      const help = "utilization-weighted GPU busy time seen by the meter";
      metrics.inc("gpu_agent_gpu_busy_ms_total", help, {}, evidence.busy_gpu_ms);
    }
    metrics.inc(...JOBS, { outcome: done.ok ? "completed" : "dropped" });
    if (done.ok) {
      stats.completed++;
      this.log.info({ gpu_ms: out.gpuMs, load_ms: out.loadMs }, "completed");
    } else {
      stats.dropped++;
      this.log.warn({ err: done.message }, "completion refused; result dropped");
    }
  }

  private stopped(reason: string): void {
    this.ctx.metrics.inc(...JOBS, { outcome: "stopped" });
    this.ctx.stats.dropped++;
    this.log.info({ reason }, "job stopped");
  }

  private async failed(je: JobError): Promise<void> {
    const { job } = this.r;
    this.ctx.stats.failed++;
    this.ctx.metrics.inc(...JOBS, { outcome: "failed" });
    this.ctx.metrics.inc("gpu_agent_failures_total", "failed jobs, by error kind", { kind: je.kind });
    this.log.warn({ kind: je.kind, err: je.message }, "job failed");
    const body = {
      lease_id: job.lease_id,
      epoch: job.epoch,
      kind: je.kind,
      retryable: je.retryable,
      message: je.message.slice(0, 2000),
      ...(je instanceof ContentModerated ? { moderation: je.report } : {}),
      ...(je instanceof ContentModerated && je.metrics ? { metrics: je.metrics } : {}),
    };
    await this.retryUntilLeaseEnds(() => this.ctx.client.fail(job.job_id, body));
  }

  private checkAborted(): void {
    if (this.r.aborted) throw new JobAborted(this.r.aborted);
  }

  private releaseDevice(): void {
    if (!this.deviceHeld) return;
    this.deviceHeld = false;
    this.ctx.device.release();
  }

  /** On network loss the result is kept and re-sent until the lease runs out; a 4xx answer is final. */
  private async retryUntilLeaseEnds<T extends { ok: boolean; kind?: string }>(fn: () => Promise<T>): Promise<T> {
    let delay = 200;
    for (;;) {
      const res = await fn();
      if (res.ok || res.kind !== "network" || Date.now() + delay > this.r.leaseExpiresAt) return res;
      await sleep(delay);
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

/** The device's execution slots, and the idle gap between one run ending and the next starting. */
export class DeviceSlots {
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
