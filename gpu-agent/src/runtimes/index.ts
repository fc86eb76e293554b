import type { AgentConfig } from "../config.ts";
import type { RuntimeAdapter } from "./types.ts";
import { BuiltinRuntime } from "./builtin/index.ts";
import { CogRuntime } from "./cog.ts";

/** The runtime adapters this agent runs, from its configuration. */
export function buildRuntimes(cfg: AgentConfig, onFatal?: (reason: string) => void): RuntimeAdapter[] {
  const out: RuntimeAdapter[] = [];
  if (cfg.builtin) out.push(new BuiltinRuntime({ onFatal }));
  if (cfg.cogUrl && cfg.cogModel) out.push(new CogRuntime({ url: cfg.cogUrl, model: cfg.cogModel }));
  return out;
}
