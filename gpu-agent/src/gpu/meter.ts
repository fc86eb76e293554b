import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** One reading of one GPU from the sampler. */
export interface Sample {
  /** ms (the sampler's clock for recordings, arrival time for a live sampler) */
  t: number;
  index: number;
  util: number;
  memory_mib: number;
  power_w: number | null;
}

/** What the meter saw during a job's execution window: audit evidence next to the billed wall time. */
export interface Evidence {
  window_ms: number;
  samples: number;
  /** utilization-weighted busy time summed over the GPUs used */
  busy_gpu_ms: number;
  peak_memory_mib: number;
  avg_power_w: number | null;
  peak_power_w: number | null;
  energy_j: number | null;
}

export const SAMPLER_ARGS = [
  "--query-gpu=timestamp,index,utilization.gpu,memory.used,power.draw",
  "--format=csv,noheader,nounits",
  "-lms",
  "200",
];

/** `2026/11/22 10:00:00.123, 0, 97, 30512, 341.25` → a sample (timestamp as ms since the epoch, read as UTC). */
export function parseSampleLine(line: string): Sample | null {
  const parts = line.split(",").map((s) => s.trim());
  if (parts.length < 5) return null;
  const [ts, index, util, mem, power] = parts as [string, string, string, string, string];
  const m = ts.match(/^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/);
  if (!m || !/^\d+$/.test(index)) return null;
  const t = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, Number((m[7] ?? "0").padEnd(3, "0")));
  const num = (s: string) => (/^[\d.]+$/.test(s) ? Number(s) : null);
  return { t, index: Number(index), util: num(util) ?? 0, memory_mib: num(mem) ?? 0, power_w: num(power) };
}

/** A bounded buffer of samples and the window arithmetic; pure, shared by the live and the replayed meter. */
export class SampleBuffer {
  private samples: Sample[] = [];
  private keepMs: number;
  constructor(keepMs = 15 * 60_000) {
    this.keepMs = keepMs;
  }

  push(s: Sample): void {
    this.samples.push(s);
    const cutoff = s.t - this.keepMs;
    if (this.samples[0] && this.samples[0].t < cutoff) this.samples = this.samples.filter((x) => x.t >= cutoff);
  }

  /**
   * Evidence for [from, to] on the given GPUs: each sample stands for the interval since the previous sample of the
   * same GPU (nvidia-smi reports utilization over its last sample period), clipped to the window.
   */
  window(from: number, to: number, gpus?: number[]): Evidence {
    const byGpu = new Map<number, Sample[]>();
    for (const s of this.samples) {
      if (gpus && !gpus.includes(s.index)) continue;
      const list = byGpu.get(s.index) ?? [];
      list.push(s);
      byGpu.set(s.index, list);
    }
    let busy = 0;
    let count = 0;
    let peakMem = 0;
    let energy = 0;
    let powerMs = 0;
    let peakPower: number | null = null;
    for (const list of byGpu.values()) {
      list.sort((a, b) => a.t - b.t);
      for (let i = 0; i < list.length; i++) {
        const s = list[i]!;
        const prev = i > 0 ? list[i - 1]!.t : s.t - 200;
        const start = Math.max(prev, from);
        const end = Math.min(s.t, to);
        if (end <= start) continue;
        const span = end - start;
        count++;
        busy += (span * Math.min(100, Math.max(0, s.util))) / 100;
        peakMem = Math.max(peakMem, s.memory_mib);
        if (s.power_w !== null) {
          energy += (s.power_w * span) / 1000;
          powerMs += span;
          peakPower = Math.max(peakPower ?? 0, s.power_w);
        }
      }
    }
    return {
      window_ms: Math.max(0, to - from),
      samples: count,
      busy_gpu_ms: Math.round(busy),
      peak_memory_mib: peakMem,
      avg_power_w: powerMs > 0 ? Math.round(((energy * 1000) / powerMs) * 10) / 10 : null,
      peak_power_w: peakPower,
      energy_j: powerMs > 0 ? Math.round(energy * 10) / 10 : null,
    };
  }
}

export interface GpuMeter {
  /** current time on the meter's clock */
  now(): number;
  evidence(from: number, to: number, gpus?: number[]): Evidence | null;
  close(): void;
}

/** No GPU: billing still uses the monotonic wall time of the execution; there is simply no evidence to attach. */
export class NullMeter implements GpuMeter {
  now() {
    return Date.now();
  }
  evidence() {
    return null;
  }
  close() {}
}

/** Replays a recorded `-lms` stream: the tests' meter, and a way to audit a disputed window after the fact. */
export class ReplayMeter implements GpuMeter {
  readonly buffer = new SampleBuffer(Number.POSITIVE_INFINITY);
  private offset: number;
  /** `playFrom`: the recording's time that `now()` reads at construction; it then advances with the wall clock. */
  constructor(recording: string, playFrom?: number) {
    for (const line of recording.split("\n")) {
      const s = parseSampleLine(line);
      if (s) this.buffer.push(s);
    }
    this.offset = playFrom === undefined ? 0 : playFrom - Date.now();
  }
  now() {
    return Date.now() + this.offset;
  }
  evidence(from: number, to: number, gpus?: number[]) {
    return this.buffer.window(from, to, gpus);
  }
  close() {}
}

/** One long-lived `nvidia-smi -lms 200` child for the agent's life; samples are stamped on arrival. */
export class NvidiaSmiMeter implements GpuMeter {
  private buffer = new SampleBuffer();
  private child: ChildProcess;
  constructor(bin = "nvidia-smi") {
    this.child = spawn(bin, SAMPLER_ARGS, { stdio: ["ignore", "pipe", "ignore"] });
    this.child.on("error", () => {});
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      const s = parseSampleLine(line);
      if (s) this.buffer.push({ ...s, t: Date.now() });
    });
  }
  now() {
    return Date.now();
  }
  evidence(from: number, to: number, gpus?: number[]) {
    return this.buffer.window(from, to, gpus);
  }
  close() {
    this.child.kill();
  }
}
