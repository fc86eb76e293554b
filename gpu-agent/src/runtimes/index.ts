import type { AgentConfig } from "../config.ts";
import type { RuntimeAdapter } from "./types.ts";
import { BuiltinRuntime } from "./builtin/index.ts";
import { CogRuntime } from "./cog.ts";
import { ComfyUIRuntime, loadComfyModels } from "./comfyui.ts";

/** The runtime adapters this agent runs, from its configuration. */
export function buildRuntimes(cfg: AgentConfig, onFatal?: (reason: string) => void): RuntimeAdapter[] {
  const out: RuntimeAdapter[] = [];
  const [command, ...args] = cfg.backendCmd?.split(/\s+/).filter(Boolean) ?? [];
  const proc = command ? { process: { command, args, onFatal } } : {};
  if (cfg.builtin) out.push(new BuiltinRuntime({ onFatal }));
  if (cfg.cogUrl && cfg.cogModel) out.push(new CogRuntime({ url: cfg.cogUrl, model: cfg.cogModel, ...proc }));
  if (cfg.comfyuiUrl) {
    out.push(
      new ComfyUIRuntime({
        url: cfg.comfyuiUrl,
        models: loadComfyModels(cfg.comfyuiWorkflows),
        ...(cfg.cogUrl ? {} : proc),
      }),
    );
  }
  return out;
}
