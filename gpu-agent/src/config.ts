import { readFileSync } from "node:fs";
import { z } from "zod";
import { GpuClass } from "../../schemas/index.ts";

type Env = NodeJS.ProcessEnv;

/** One option: where it is read from, how it is validated, its default, and its line in `--help`. */
interface Option<S extends z.ZodType = z.ZodType> {
  flag: string;
  env: string;
  schema: S;
  help: string;
  /** placeholder of the value in `--help`; absent for booleans */
  arg?: string;
  default?: unknown | ((env: Env) => unknown);
  /** how the default reads in `--help` when it is computed */
  defaultText?: string;
}
const option = <S extends z.ZodType>(o: Option<S>): Option<S> => o;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
// Flags and env give strings, the JSON file gives booleans; "false" is the only false string.
const bool = z.preprocess((v) => (typeof v === "string" ? v !== "false" : v), z.boolean());
// "a,b" from flags and env, ["a", "b"] from the file.
const list = z.preprocess(
  (v) =>
    typeof v === "string"
      ? v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : v,
  z.array(z.string()),
);

/** Every option of the agent, declared once: the schema, the loader and `--help` all come from this table. */
export const OPTIONS = {
  platformUrl: option({
    flag: "platform-url",
    env: "PLATFORM_URL",
    arg: "URL",
    schema: z.url(),
    help: "the platform's base URL",
  }),
  token: option({
    flag: "token",
    env: "AGENT_TOKEN",
    arg: "TOKEN",
    schema: z.string().min(10),
    help: "agent token from the operator",
  }),
  name: option({
    flag: "name",
    env: "AGENT_NAME",
    arg: "NAME",
    schema: z.string().min(1).max(100),
    help: "shown to operators",
    default: () => `agent-${process.pid}`,
    defaultText: "agent-<pid>",
  }),
  slots: option({
    flag: "slots",
    env: "AGENT_SLOTS",
    arg: "N",
    schema: int(1, 64),
    default: 1,
    help: "jobs run at once",
  }),
  prefetch: option({
    flag: "prefetch",
    env: "AGENT_PREFETCH",
    arg: "N",
    schema: int(0, 16),
    default: 1,
    help: "jobs leased ahead while every slot is busy (the device never idles between jobs)",
  }),
  models: option({
    flag: "models",
    env: "AGENT_MODELS",
    arg: "a,b",
    schema: list.optional(),
    help: "model slugs to serve (default: all the runtimes offer)",
  }),
  gpuClass: option({
    flag: "gpu-class",
    env: "AGENT_GPU_CLASS",
    arg: "CLASS",
    default: "auto",
    schema: z.union([GpuClass, z.literal("auto")]),
    help: `auto (nvidia-smi; cpu without GPUs) or ${GpuClass.options.join("|")}`,
  }),
  leaseWaitMs: option({
    flag: "lease-wait-ms",
    env: "AGENT_LEASE_WAIT_MS",
    arg: "MS",
    schema: int(0, 25_000),
    default: 20_000,
    help: "long-poll length",
  }),
  drainGraceMs: option({
    flag: "drain-grace-ms",
    env: "AGENT_DRAIN_GRACE_MS",
    arg: "MS",
    schema: int(0, 3_600_000),
    default: 30_000,
    help: "on SIGTERM, how long running jobs may finish",
  }),
  preload: option({
    flag: "preload",
    env: "AGENT_PRELOAD",
    arg: "true|false",
    schema: bool,
    default: true,
    help: "warm models at start",
  }),
  builtin: option({
    flag: "builtin",
    env: "AGENT_BUILTIN",
    arg: "true|false",
    schema: bool,
    default: true,
    help: "run the built-in CPU models",
  }),
  cogUrl: option({ flag: "cog-url", env: "COG_URL", arg: "URL", schema: z.url().optional(), help: "a Cog backend" }),
  cogModel: option({
    flag: "cog-model",
    env: "COG_MODEL",
    arg: "SLUG",
    schema: z.string().min(1).optional(),
    help: "the catalog model the Cog backend serves (required with --cog-url)",
  }),
  comfyuiUrl: option({
    flag: "comfyui-url",
    env: "COMFYUI_URL",
    arg: "URL",
    schema: z.url().optional(),
    help: "a ComfyUI backend",
  }),
  comfyuiWorkflows: option({
    flag: "comfyui-workflows",
    env: "COMFYUI_WORKFLOWS",
    arg: "DIR",
    schema: z.string().min(1),
    default: () => new URL("../../models", import.meta.url).pathname,
    defaultText: "models",
    help: "the catalog's model folders (<slug>/manifest.json + workflow.json); its comfyui models are served",
  }),
  backendCmd: option({
    flag: "backend-cmd",
    env: "AGENT_BACKEND_CMD",
    arg: '"CMD ARGS"',
    schema: z.string().min(1).optional(),
    help: "run the ComfyUI/Cog server and restart it when it dies (split on spaces)",
  }),
  cacheDir: option({
    flag: "cache-dir",
    env: "AGENT_CACHE_DIR",
    arg: "DIR",
    schema: z.string().min(1),
    default: (env: Env) => `${env.HOME ?? "/tmp"}/.cache/gpu-agent`,
    defaultText: "~/.cache/gpu-agent",
    help: "model files on local disk, evicted least-recently-used first",
  }),
  cacheBudgetGiB: option({
    flag: "cache-budget-gib",
    env: "AGENT_CACHE_BUDGET_GIB",
    arg: "GIB",
    schema: z.coerce.number().positive().max(100_000),
    default: 100,
    help: "size budget of the disk cache",
  }),
  modelSources: option({
    flag: "model-sources",
    env: "AGENT_MODEL_SOURCES",
    arg: "FILE",
    schema: z.string().optional(),
    help: "JSON file: model slug -> {url, sha256} of weights to keep in the cache (downloaded at start)",
  }),
  dedicated: option({
    flag: "dedicated",
    env: "AGENT_DEDICATED",
    arg: "true|false",
    schema: bool,
    default: false,
    help: "opt this agent in to dedicated endpoints: it may be reserved for one endpoint at a time",
  }),
  metricsPort: option({
    flag: "metrics-port",
    env: "AGENT_METRICS_PORT",
    arg: "PORT",
    schema: int(0, 65535),
    default: 0,
    help: "Prometheus metrics on 127.0.0.1:<port>/metrics; 0 turns them off",
  }),
};
type Options = typeof OPTIONS;

const shape = Object.fromEntries(Object.entries(OPTIONS).map(([k, o]) => [k, o.schema]));
export const AgentConfig = z
  .object(shape as { [K in keyof Options]: Options[K]["schema"] })
  .refine((c) => !c.cogUrl || c.cogModel, { message: "--cog-model is required with --cog-url", path: ["cogModel"] });
export type AgentConfig = z.infer<typeof AgentConfig>;

/** `--flag value`, `--flag=value`, and a bare `--flag` meaning true. */
function parseFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) continue;
    const [k, inline] = a.slice(2).split("=", 2) as [string, string | undefined];
    if (inline !== undefined) flags.set(k, inline);
    else if (argv[i + 1] && !argv[i + 1]!.startsWith("--")) flags.set(k, argv[++i]!);
    else flags.set(k, "true");
  }
  return flags;
}

function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (!file) return {};
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`invalid configuration:\n  config: cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Flags over env over the JSON file (`--config`/`AGENT_CONFIG`, keys named like the flags) over defaults. */
export function parseConfig(argv: string[], env: Env): AgentConfig {
  const flags = parseFlags(argv);
  const fromFile = readConfigFile(flags.get("config") ?? env.AGENT_CONFIG);
  const raw: Record<string, unknown> = {};
  for (const [key, o] of Object.entries(OPTIONS) as [string, Option][]) {
    const v = flags.get(o.flag) ?? env[o.env] ?? fromFile[o.flag];
    raw[key] = v ?? (typeof o.default === "function" ? (o.default as (e: Env) => unknown)(env) : o.default);
  }
  const result = AgentConfig.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const o = OPTIONS[i.path[0] as keyof Options];
      return `  ${i.path.join(".")}${o ? ` (--${o.flag}, ${o.env})` : ""}: ${i.message}`;
    });
    throw new Error(`invalid configuration:\n${lines.join("\n")}`);
  }
  return result.data;
}

/** The options part of `--help`, generated from the table. */
export function optionsHelp(): string {
  const rows = (Object.values(OPTIONS) as Option[]).map((o) => {
    const left = `--${o.flag}${o.arg ? ` ${o.arg}` : ""}`;
    const def = o.defaultText ?? (o.default === undefined ? undefined : String(o.default));
    return `  ${left.padEnd(28)} ${o.env.padEnd(24)} ${o.help}${def === undefined ? "" : ` (default: ${def})`}`;
  });
  const config = `  ${"--config FILE".padEnd(28)} ${"AGENT_CONFIG".padEnd(24)} JSON file, keys named like the flags`;
  return [...rows, config].join("\n");
}
