// The ComfyUI stand-in as a process of its own, so a real agent can use (or supervise) it like a real backend.
// FILES: JSON {folder: [file, ...]} of the model files the host has; CUSTOM_NODES: comma-separated extra node types.
import { ComfyStandIn } from "./comfyui-server.ts";

const s = new ComfyStandIn();
s.stepMs = Number(process.env.STEP_MS ?? 40);
if (process.env.FILES) s.files = JSON.parse(process.env.FILES) as Record<string, string[]>;
if (process.env.CUSTOM_NODES) s.customNodes = process.env.CUSTOM_NODES.split(",");
await s.start(Number(process.env.PORT));
process.on("SIGTERM", () => void s.stop().then(() => process.exit(0)));
