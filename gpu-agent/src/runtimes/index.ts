import type { RuntimeAdapter } from "./types.ts";
import { BuiltinRuntime } from "./builtin/index.ts";

/** Runtime adapters by name; GPU backends (ComfyUI, Cog) register here beside the built-in one. */
export const RUNTIMES: Record<string, () => RuntimeAdapter> = {
  builtin: () => new BuiltinRuntime(),
};
