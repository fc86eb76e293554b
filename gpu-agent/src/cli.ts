import { Agent, VERSION } from "./agent.ts";
import { type AgentConfig, optionsHelp, parseConfig } from "./config.ts";
import { log } from "./log.ts";
import { buildRuntimes } from "./runtimes/index.ts";

const usage = () => `gpu-agent ${VERSION}

usage: gpu-agent run|doctor [options]     run the agent | check this host before putting it into service
       gpu-agent version

options (flags override env, env overrides the --config file):
${optionsHelp()}
  ${"".padEnd(28)} ${"LOG_LEVEL".padEnd(24)} pino log level (default: info)`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === "version" || cmd === "--version") {
    console.log(VERSION);
    return 0;
  }
  const help = cmd === undefined || cmd === "help" || rest.includes("--help") || cmd === "--help";
  if (help || (cmd !== "run" && cmd !== "doctor")) {
    (help ? console.log : console.error)(usage());
    return help ? 0 : 2;
  }
  let cfg: AgentConfig;
  try {
    cfg = parseConfig(rest, process.env);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  return cmd === "doctor" ? runDoctor(cfg) : runAgent(cfg);
}

async function runDoctor(cfg: AgentConfig): Promise<number> {
  const { doctor } = await import("./doctor.ts");
  const runtimes = buildRuntimes(cfg);
  const checks = await doctor(cfg, runtimes);
  await Promise.all(runtimes.map((r) => r.close()));
  for (const c of checks) console.log(`${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(16)} ${c.detail}`);
  return checks.every((c) => c.ok) ? 0 : 1;
}

/** Runs until drained (SIGTERM/SIGINT: 0) or until a backend keeps crashing (1: the host should be replaced). */
async function runAgent(cfg: AgentConfig): Promise<number> {
  let stopping: Promise<void> | null = null;
  let fatal = false;
  const onFatal = (reason: string) => {
    log.error({ reason }, "backend keeps crashing; giving up");
    fatal = true;
    stopping ??= agent.drain();
  };
  const agent: Agent = new Agent(cfg, buildRuntimes(cfg, onFatal), log);
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
