export * from "./errors.ts";
export * from "./models.ts";
export * from "./plans.ts";
export * from "./api.ts";
export * from "./agent.ts";
export * from "./queue.ts";
export * from "./cpu-models.ts";
