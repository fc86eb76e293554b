import type { FailMetrics, Moderation, ModerationReport } from "../../schemas/index.ts";
import { JobError } from "./errors.ts";
import { BuiltinRuntime } from "./runtimes/builtin/index.ts";
import type { RunOutput, RuntimeAdapter } from "./runtimes/types.ts";

/** Scores one image with the NSFW classifier: its score, class probabilities, and the execution time it took. */
export type Classifier = (
  jobId: string,
  image: { bytes: Uint8Array; contentType: string },
) => Promise<{ nsfw_score: number; predictions: ModerationReport["outputs"][number]["predictions"]; ms: number }>;

/** The NSFW detector of a built-in runtime as a classifier. */
function classifierOf(builtin: RuntimeAdapter): Classifier {
  return async (jobId, image) => {
    const r = await builtin.run({ jobId, model: "nsfw-detector", params: {}, files: { image } });
    const json = r.json as { nsfw_score: number; predictions: { className: string; probability: number }[] };
    return { nsfw_score: json.nsfw_score, predictions: json.predictions, ms: r.gpuMs };
  };
}

/**
 * The agent's classifier: the built-in runtime's when it runs one; otherwise (a GPU host with `--builtin false`) a
 * model thread of its own, started the first time a job asks for moderation, so no host delivers unchecked outputs.
 */
export function agentClassifier(runtimes: RuntimeAdapter[]): { classify: Classifier; close(): Promise<void> } {
  const builtin = runtimes.find((r) => r.name === "builtin");
  if (builtin) return { classify: classifierOf(builtin), close: async () => {} };
  let own: BuiltinRuntime | null = null;
  return {
    classify: (jobId, image) => classifierOf((own ??= new BuiltinRuntime()))(jobId, image),
    close: async () => {
      await own?.close();
    },
  };
}

export interface Moderated {
  report: ModerationReport;
  /** execution time of the classifier over every output, metered apart from the model's gpu_ms */
  ms: number;
}

/**
 * Runs the job's moderation policy over its image outputs. Returns null when there is nothing to do (policy none,
 * or no image output); throws a retryable error when the policy asks for moderation that this agent cannot do, so
 * the job goes to another agent rather than out unmoderated.
 */
export async function moderate(
  jobId: string,
  out: RunOutput,
  policy: Moderation | undefined,
  classify: Classifier | null,
): Promise<Moderated | null> {
  if (!policy || policy.policy === "none") return null;
  const images = out.outputs.filter((o) => o.contentType.startsWith("image/"));
  if (images.length === 0) return null;
  if (!classify) throw new JobError("model_unavailable", "this agent has no NSFW classifier to moderate outputs", true);
  let ms = 0;
  const outputs: ModerationReport["outputs"] = [];
  for (const [i, o] of images.entries()) {
    const r = await classify(`${jobId}:moderation:${i}`, { bytes: o.bytes, contentType: o.contentType }).catch((e) => {
      // an output the classifier cannot read is the model's failure, never the caller's input
      throw new JobError("runtime_error", `moderation of ${o.name}: ${(e as Error).message}`, true);
    });
    ms += r.ms;
    const flagged = r.nsfw_score >= policy.threshold;
    outputs.push({ name: o.name, nsfw_score: r.nsfw_score, flagged, predictions: r.predictions });
  }
  const flagged = outputs.some((o) => o.flagged);
  const report = { policy: policy.policy, threshold: policy.threshold, flagged, outputs };
  return { report, ms };
}

/** The output JSON of a flagged result: the model's own JSON with the moderation report beside it. */
export function withReport(json: unknown, report: ModerationReport): unknown {
  if (json === undefined) return { moderation: report };
  if (typeof json === "object" && json !== null && !Array.isArray(json)) return { ...json, moderation: report };
  return { output: json, moderation: report };
}

/** The failure of a blocked job, with the scores in its message (the broker keeps the message with the job). */
export class ContentModerated extends JobError {
  readonly report: ModerationReport;
  /** the run's measured compute: the work was valid, so the platform pays the provider's share of it */
  readonly metrics: FailMetrics | undefined;
  constructor(report: ModerationReport, metrics?: FailMetrics) {
    const worst = report.outputs.filter((o) => o.flagged).map((o) => `${o.name} scored ${o.nsfw_score}`);
    const why = `output blocked by moderation: ${worst.join(", ")} (threshold ${report.threshold})`;
    super("content_moderated", why, false);
    this.report = report;
    this.metrics = metrics;
  }
}
