import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { agentClass, gpuClassOf, parseCudaVersion, parseInventory } from "../../gpu-agent/src/gpu/inventory.ts";
import { ReplayMeter, parseSampleLine } from "../../gpu-agent/src/gpu/meter.ts";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/nvidia-smi/${name}`, import.meta.url), "utf8");

describe("GPU inventory from nvidia-smi", () => {
  it.each([
    ["h100x2.csv", 2, "NVIDIA H100 80GB HBM3", 81559, "H100"],
    ["a100-40.csv", 1, "NVIDIA A100-SXM4-40GB", 40960, "A100-40"],
    ["a100-80.csv", 1, "NVIDIA A100 80GB PCIe", 81920, "A100-80"],
    ["l40s.csv", 1, "NVIDIA L40S", 46068, "L40S"],
    ["a40.csv", 1, "NVIDIA A40", 46068, "A40"],
    ["rtx4090.csv", 1, "NVIDIA GeForce RTX 4090", 24564, "other"],
  ])("%s → %i GPU(s), class %s", (file, count, name, mem, cls) => {
    const { gpus, driver } = parseInventory(fixture(file));
    expect(gpus).toHaveLength(count);
    expect(gpus[0]).toMatchObject({ index: 0, name, memory_mib: mem });
    expect(gpus[0]!.uuid).toMatch(/^GPU-[0-9a-f-]{36}$/);
    expect(driver).toMatch(/^\d+\.\d+/);
    expect(gpuClassOf(gpus[0]!)).toBe(cls);
    expect(agentClass(gpus)).toBe(cls);
  });

  it("a host with no GPU is a cpu host; a mixed host takes its weakest class; the CUDA version comes from the banner", () => {
    expect(agentClass([])).toBe("cpu");
    expect(parseInventory("")).toEqual({ gpus: [], driver: null });
    const mixed = [...parseInventory(fixture("h100x2.csv")).gpus, ...parseInventory(fixture("a40.csv")).gpus];
    expect(agentClass(mixed)).toBe("A40");
    expect(parseCudaVersion(fixture("banner.txt"))).toBe("12.4");
  });
});

describe("GPU meter windows from a recorded sampler stream", () => {
  const meter = new ReplayMeter(fixture("sampler-h100x2.csv"));
  const t0 = Date.UTC(2026, 10, 22, 10, 0, 0);

  it("parses sampler lines and rejects malformed ones", () => {
    expect(parseSampleLine("2026/11/22 10:00:01.400, 0, 98, 31450, 342.50")).toEqual({
      t: t0 + 1400,
      index: 0,
      util: 98,
      memory_mib: 31450,
      power_w: 342.5,
    });
    expect(parseSampleLine("2026/11/22 10:00:01.400, 0, 98, 31450, [N/A]")!.power_w).toBeNull();
    expect(parseSampleLine("garbage")).toBeNull();
  });

  it("measures busy time, peak memory and energy of the job's window on the GPU it used", () => {
    const e = meter.evidence(t0 + 1800, t0 + 4800, [0])!;
    expect(e.window_ms).toBe(3000);
    expect(e.busy_gpu_ms).toBe(Math.round(3000 * 0.98));
    expect(e.peak_memory_mib).toBe(31450);
    expect(e.peak_power_w).toBe(342.5);
    expect(e.energy_j).toBeCloseTo(342.5 * 3, 0);
  });

  it("an idle window shows no busy time; the idle GPU adds none to a busy window", () => {
    expect(meter.evidence(t0, t0 + 1800, [0])!.busy_gpu_ms).toBe(0);
    const both = meter.evidence(t0 + 1800, t0 + 4800)!;
    expect(both.busy_gpu_ms).toBe(Math.round(3000 * 0.98));
    expect(both.peak_memory_mib).toBe(31450);
  });

  it("a window that straddles the job counts only the overlap", () => {
    const e = meter.evidence(t0 + 4000, t0 + 6000, [0])!;
    expect(e.busy_gpu_ms).toBe(Math.round(800 * 0.98));
  });
});
