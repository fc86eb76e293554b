import { Agent, VERSION } from "./agent.ts";
import { parseConfig } from "./config.ts";
import { log } from "./log.ts";
import { buildRuntimes } from "./runtimes/index.ts";

const USAGE = `gpu-agent ${VERSION}

usage: gpu-agent run|doctor [--platform-url URL] [--token TOKEN] [--name NAME] [--slots N] [--models a,b]
                     [--gpu-class auto|cpu|A40|L40S|A100-40|A100-80|H100] [--lease-wait-ms N] [--drain-grace-ms N]
                     [--preload false] [--builtin false] [--cog-url URL --cog-model SLUG]
                     [--comfyui-url URL [--comfyui-workflows DIR]] [--backend-cmd "CMD ARGS"]
                     [--prefetch N] [--metrics-port N] [--config FILE]

env: PLATFORM_URL, AGENT_TOKEN, AGENT_NAME, AGENT_SLOTS, AGENT_MODELS, AGENT_GPU_CLASS, AGENT_LEASE_WAIT_MS,
     AGENT_DRAIN_GRACE_MS, AGENT_PRELOAD, AGENT_BUILTIN, COG_URL, COG_MODEL, COMFYUI_URL, COMFYUI_WORKFLOWS, AGENT_PREFETCH, AGENT_METRICS_PORT, AGENT_BACKEND_CMD,
     AGENT_CONFIG,
     LOG_LEVEL`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === "version" || cmd === "--version") {
    console.log(VERSION);
    return 0;
  }
  if (cmd !== "run" && cmd !== "doctor") {
    console.error(USAGE);
    return cmd === undefined || cmd === "help" || cmd === "--help" ? 0 : 2;
  }
  let cfg;
  try {
    cfg = parseConfig(rest, process.env);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  if (cmd === "doctor") {
    const { doctor } = await import("./doctor.ts");
    const runtimes = buildRuntimes(cfg);
    const checks = await doctor(cfg, runtimes);
    await Promise.all(runtimes.map((r) => r.close()));
    for (const c of checks) console.log(`${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(16)} ${c.detail}`);
    return checks.every((c) => c.ok) ? 0 : 1;
  }
  let stopping: Promise<void> | null = null;
  let fatal = false;
  const agent: Agent = new Agent(cfg, buildRuntimes(cfg, (reason) => {
    // A backend that keeps crashing: give the jobs back and exit non-zero so the host gets replaced.
    log.error({ reason }, "backend keeps crashing; giving up");
    fatal = true;
    stopping ??= agent.drain();
  }), log);
  const stop = (sig: string) => {
    log.info({ signal: sig }, "signal received");
    stopping ??= agent.drain();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  const metricsServer = cfg.metricsPort ? await agent.metrics.serve(cfg.metricsPort) : null;
  if (metricsServer) log.info({ port: cfg.metricsPort }, "metrics on /metrics");
  try {
    await agent.start();
  } catch (e) {
    log.error({ err: (e as Error).message }, "agent stopped");
    return 1;
  }
  if (stopping) await stopping;
  metricsServer?.close();
  if (fatal) return 1;
  log.info(agent.stats, "exited cleanly");
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
// The model thread and open sockets must not keep a drained agent alive.
setTimeout(() => process.exit(process.exitCode), 200).unref();
