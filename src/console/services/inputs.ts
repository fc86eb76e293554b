import type { Env } from "../../env.ts";
import { broker } from "../../services/broker.ts";
import { type JobInput, listJobInputs, readJobInput } from "../../services/job-inputs.ts";

/**
 * A request's inputs (the files it was sent), as the console's request page lists and shows them: large ones from R2,
 * small ones from the job its pool's broker holds (services/job-inputs.ts). Ownership is the caller's check.
 */
export class RequestInputs {
  constructor(private env: Env) {}

  /** Each input of a request: its field name and media type. */
  list(accountId: string, requestId: string, pool: string): Promise<{ field: string; type: string }[]> {
    return listJobInputs(this.env, broker(this.env, pool), accountId, requestId);
  }

  /** One input's bytes and media type; null when there is none. */
  get(accountId: string, requestId: string, field: string, pool: string): Promise<JobInput | null> {
    return readJobInput(this.env, broker(this.env, pool), accountId, requestId, field);
  }
}
