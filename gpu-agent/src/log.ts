import { pino } from "pino";

export const log = pino({ name: "gpu-agent", level: process.env.LOG_LEVEL ?? "info" });
export type Log = typeof log;
