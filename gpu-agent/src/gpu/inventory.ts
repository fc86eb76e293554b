import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { GpuClass } from "../../../schemas/index.ts";

const run = promisify(execFile);

export interface Gpu {
  index: number;
  uuid: string;
  name: string;
  memory_mib: number;
}

export interface Inventory {
  gpus: Gpu[];
  driver: string | null;
  cuda: string | null;
  gpu_class: GpuClass;
}

/** The query the agent runs; fixtures under test/fixtures/nvidia-smi answer exactly these fields. */
export const INVENTORY_ARGS = [
  "--query-gpu=index,uuid,name,memory.total,driver_version",
  "--format=csv,noheader,nounits",
];

/** Parses `nvidia-smi --query-gpu=index,uuid,name,memory.total,driver_version --format=csv,noheader,nounits`. */
export function parseInventory(csv: string): { gpus: Gpu[]; driver: string | null } {
  const gpus: Gpu[] = [];
  let driver: string | null = null;
  for (const line of csv
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)) {
    const [index, uuid, name, mem, drv] = line.split(",").map((s) => s.trim());
    if (index === undefined || !/^\d+$/.test(index) || !uuid || !name || !mem) continue;
    gpus.push({ index: Number(index), uuid, name, memory_mib: Number.parseInt(mem, 10) || 0 });
    driver ??= drv || null;
  }
  return { gpus, driver };
}

/** `CUDA Version: 12.4` from the banner of plain `nvidia-smi`. */
export function parseCudaVersion(banner: string): string | null {
  return banner.match(/CUDA Version:\s*([\d.]+)/)?.[1] ?? null;
}

/** Maps a GPU's name and memory to the platform's GPU classes; an unknown datacenter card is `other`. */
export function gpuClassOf(gpu: Pick<Gpu, "name" | "memory_mib">): GpuClass {
  const n = gpu.name.toUpperCase();
  if (/H100|H200|GH200/.test(n)) return "H100";
  if (/A100/.test(n)) return gpu.memory_mib >= 60_000 ? "A100-80" : "A100-40";
  if (/L40S/.test(n)) return "L40S";
  if (/\bA40\b/.test(n)) return "A40";
  return "other";
}

/** The agent's class is its weakest GPU's, so a job routed by class fits on any device it lands on. */
export function agentClass(gpus: Gpu[]): GpuClass {
  if (gpus.length === 0) return "cpu";
  const order: GpuClass[] = ["other", "A40", "L40S", "A100-40", "A100-80", "H100"];
  return gpus.map(gpuClassOf).sort((a, b) => order.indexOf(a) - order.indexOf(b))[0]!;
}

/** Runs nvidia-smi; a host without it (or without a driver) is a CPU host. */
export async function detect(bin = "nvidia-smi"): Promise<Inventory> {
  try {
    const [{ stdout }, banner] = await Promise.all([
      run(bin, INVENTORY_ARGS, { timeout: 10_000 }),
      run(bin, [], { timeout: 10_000 })
        .then((r) => r.stdout)
        .catch(() => ""),
    ]);
    const { gpus, driver } = parseInventory(stdout);
    return { gpus, driver, cuda: parseCudaVersion(banner), gpu_class: agentClass(gpus) };
  } catch {
    return { gpus: [], driver: null, cuda: null, gpu_class: "cpu" };
  }
}
