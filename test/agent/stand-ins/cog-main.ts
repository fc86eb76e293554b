// The Cog stand-in as a process of its own, so the agent can supervise it like a real backend.
import { CogStandIn } from "./cog-server.ts";

const s = new CogStandIn(Number(process.env.READY_AFTER_MS ?? 200));
s.runMs = Number(process.env.RUN_MS ?? 150);
await s.start(Number(process.env.PORT));
process.on("SIGTERM", () => void s.stop().then(() => process.exit(0)));
