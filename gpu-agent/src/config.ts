import { readFileSync } from "node:fs";
import { z } from "zod";
import { GpuClass } from "../../schemas/index.ts";

/** Agent configuration: flags override env, parsed once at start. */
export const AgentConfig = z.object({
  platformUrl: z.url(),
  token: z.string().min(10),
  name: z.string().min(1).max(100),
  slots: z.coerce.number().int().min(1).max(64),
  /** jobs leased ahead while every slot is busy, so the device never idles between jobs */
  prefetch: z.coerce.number().int().min(0).max(16),
  models: z.array(z.string()).optional(),
  /** `auto`: from the nvidia-smi inventory (cpu without GPUs) */
  gpuClass: z.union([GpuClass, z.literal("auto")]),
  leaseWaitMs: z.coerce.number().int().min(0).max(25_000),
  drainGraceMs: z.coerce.number().int().min(0).max(3_600_000),
  preload: z.boolean(),
  /** runtimes to start: the built-in CPU models, and/or a Cog backend */
  builtin: z.boolean(),
  cogUrl: z.url().optional(),
  cogModel: z.string().min(1).optional(),
  /** model files on local disk, LRU within a size budget */
  cacheDir: z.string().min(1),
  cacheBudgetGiB: z.coerce.number().positive().max(100_000),
  /** JSON file: model slug → {url, sha256} of the weights to keep in the cache (downloaded at start) */
  modelSources: z.string().optional(),
  /** Prometheus metrics on 127.0.0.1:<port>/metrics; 0 turns them off */
  metricsPort: z.coerce.number().int().min(0).max(65535),
  comfyuiUrl: z.url().optional(),
  /** the backend's command line (split on spaces); the agent runs it and restarts it when it dies */
  backendCmd: z.string().min(1).optional(),
  /** the catalog's model folders (`<slug>/manifest.json` + `workflow.json`); its comfyui models are served */
  comfyuiWorkflows: z.string().min(1),
  /** the provider opts this agent in to dedicated endpoints: it may be reserved for one endpoint at a time */
  dedicated: z.boolean(),
}).refine((c) => !c.cogUrl || c.cogModel, { message: "--cog-model is required with --cog-url", path: ["cogModel"] });
export type AgentConfig = z.infer<typeof AgentConfig>;

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): AgentConfig {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) continue;
    const [k, inline] = a.slice(2).split("=", 2) as [string, string | undefined];
    if (inline !== undefined) flags.set(k, inline);
    else if (argv[i + 1] && !argv[i + 1]!.startsWith("--")) flags.set(k, argv[++i]!);
    else flags.set(k, "true");
  }
  // A config file (JSON, keys named like the flags) sits under env and flags: flags > env > file.
  const file = flags.get("config") ?? env.AGENT_CONFIG;
  let fromFile: Record<string, unknown> = {};
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`invalid configuration:\n  config: cannot read ${file}: ${(e as Error).message}`);
    }
  }
  const pick = (flag: string, envName: string): string | undefined => {
    const v = flags.get(flag) ?? env[envName] ?? fromFile[flag];
    return v === undefined || v === null ? undefined : Array.isArray(v) ? v.join(",") : String(v);
  };
  const models = pick("models", "AGENT_MODELS");
  const result = AgentConfig.safeParse({
    platformUrl: pick("platform-url", "PLATFORM_URL"),
    token: pick("token", "AGENT_TOKEN"),
    name: pick("name", "AGENT_NAME") ?? `agent-${process.pid}`,
    slots: pick("slots", "AGENT_SLOTS") ?? 1,
    prefetch: pick("prefetch", "AGENT_PREFETCH") ?? 1,
    models: models ? models.split(",").map((s) => s.trim()).filter(Boolean) : undefined,
    gpuClass: pick("gpu-class", "AGENT_GPU_CLASS") ?? "auto",
    leaseWaitMs: pick("lease-wait-ms", "AGENT_LEASE_WAIT_MS") ?? 20_000,
    drainGraceMs: pick("drain-grace-ms", "AGENT_DRAIN_GRACE_MS") ?? 30_000,
    preload: (pick("preload", "AGENT_PRELOAD") ?? "true") !== "false",
    builtin: (pick("builtin", "AGENT_BUILTIN") ?? "true") !== "false",
    cogUrl: pick("cog-url", "COG_URL"),
    cogModel: pick("cog-model", "COG_MODEL"),
    metricsPort: pick("metrics-port", "AGENT_METRICS_PORT") ?? 0,
    cacheDir: pick("cache-dir", "AGENT_CACHE_DIR") ?? `${env.HOME ?? "/tmp"}/.cache/gpu-agent`,
    cacheBudgetGiB: pick("cache-budget-gib", "AGENT_CACHE_BUDGET_GIB") ?? 100,
    modelSources: pick("model-sources", "AGENT_MODEL_SOURCES"),
    comfyuiUrl: pick("comfyui-url", "COMFYUI_URL"),
    backendCmd: pick("backend-cmd", "AGENT_BACKEND_CMD"),
    comfyuiWorkflows: pick("comfyui-workflows", "COMFYUI_WORKFLOWS") ?? new URL("../../models", import.meta.url).pathname,
    dedicated: (pick("dedicated", "AGENT_DEDICATED") ?? "false") === "true",
  });
  if (!result.success) {
    throw new Error(`invalid configuration:\n${result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`);
  }
  return result.data;
}
