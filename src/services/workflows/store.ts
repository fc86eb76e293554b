import { and, desc, eq, isNull, max } from "drizzle-orm";
import {
  checkDefinition,
  inputsJsonSchema,
  type DefinitionError,
  type Estimate,
  type ValidationResult,
  type WorkflowDefinition,
  type WorkflowView,
  type WorkflowCatalogEntry,
} from "../../../schemas/index.ts";
import { db } from "../../db/client.ts";
import { workflowAliases, workflows, workflowVersions } from "../../db/schema.ts";
import type { Env } from "../../env.ts";
import { ApiError, notFound } from "../../errors.ts";
import type { AuthedAccount } from "../auth-types.ts";
import { newId } from "../crypto.ts";
import { uniqueViolation } from "../db-errors.ts";
import { NodeModels } from "./models.ts";

type Row = typeof workflows.$inferSelect;
export type Resolved = { workflow: Row; version: number; definition: WorkflowDefinition };

const etag = (rev: number) => `"rev-${rev}"`;
const iso = (ms: number) => new Date(ms).toISOString();

function invalid(errors: DefinitionError[]): ApiError {
  return new ApiError("invalid_input", `the definition has ${errors.length} problem${errors.length === 1 ? "" : "s"}`, {
    errors,
  });
}

/**
 * Workflows in D1: an editable draft (its revision is the ETag), immutable numbered versions, and the production and
 * staging aliases. Drafts never serve traffic; a run resolves a version and keeps it.
 */
export class WorkflowStore {
  constructor(private env: Env) {}

  /** The full check (shape, graph, refs, models the account may use), against the catalog as it is now. */
  async check(account: AuthedAccount, raw: unknown) {
    const models = await NodeModels.load(this.env, account, raw);
    const r = checkDefinition(raw, models.lookup);
    return { ...r, models };
  }

  async create(
    account: AuthedAccount,
    body: { slug: string; name: string; description?: string; definition: unknown },
  ): Promise<Row> {
    const { errors, definition } = await this.check(account, body.definition);
    if (errors.length) throw invalid(errors);
    const now = Date.now();
    const row: Row = {
      id: newId("wf"),
      accountId: account.id,
      slug: body.slug,
      name: body.name,
      description: body.description ?? null,
      draft: definition,
      draftRev: 1,
      createdAt: now,
      updatedAt: now,
      archivedAt: null,
    };
    try {
      await db(this.env).insert(workflows).values(row);
    } catch (e) {
      if (uniqueViolation(e)) throw new ApiError("conflict", `a workflow '${body.slug}' already exists`);
      throw e;
    }
    return row;
  }

  async row(account: AuthedAccount, slug: string): Promise<Row> {
    const r = await db(this.env)
      .select()
      .from(workflows)
      .where(and(eq(workflows.accountId, account.id), eq(workflows.slug, slug)))
      .get();
    if (!r) throw notFound("workflow");
    return r;
  }

  async list(account: AuthedAccount): Promise<Row[]> {
    return db(this.env)
      .select()
      .from(workflows)
      .where(and(eq(workflows.accountId, account.id), isNull(workflows.archivedAt)))
      .orderBy(desc(workflows.createdAt))
      .all();
  }

  /** Replaces the draft if `If-Match` names its current revision: a stale editor gets 412 and changes nothing. */
  async updateDraft(
    account: AuthedAccount,
    slug: string,
    ifMatch: string | undefined,
    body: { definition: unknown; name?: string; description?: string },
  ): Promise<Row> {
    if (!ifMatch) throw new ApiError("precondition_required", "send If-Match with the ETag of the draft you edited");
    const cur = await this.row(account, slug);
    if (cur.archivedAt) throw new ApiError("conflict", "the workflow is archived");
    if (ifMatch !== etag(cur.draftRev) && ifMatch !== "*")
      throw new ApiError("precondition_failed", "the draft changed since you read it", { etag: etag(cur.draftRev) });
    const { errors, definition } = await this.check(account, body.definition);
    if (errors.length) throw invalid(errors);
    const now = Date.now();
    const next = {
      draft: definition,
      draftRev: cur.draftRev + 1,
      updatedAt: now,
      ...(body.name ? { name: body.name } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
    };
    // The revision is compared again in the write, so two editors racing with the same ETag cannot both win.
    const r = await db(this.env)
      .update(workflows)
      .set(next)
      .where(and(eq(workflows.id, cur.id), eq(workflows.draftRev, cur.draftRev)))
      .returning()
      .get();
    if (!r) throw new ApiError("precondition_failed", "the draft changed since you read it");
    return r;
  }

  /** The draft checked against the catalog as it is now; the estimate is exactly the hold a run of it would take. */
  async validate(account: AuthedAccount, slug: string): Promise<ValidationResult> {
    const { errors, definition, models } = await this.check(account, (await this.row(account, slug)).draft);
    const e = definition && errors.length === 0 ? models.estimate(definition) : null;
    return { valid: errors.length === 0, errors, estimate: e ? { max_cost: e.max_cost, per_node: e.per_node } : null };
  }

  /** Publishes the draft as version N+1; the draft must pass the full check. Versions never change afterwards. */
  async publish(
    account: AuthedAccount,
    slug: string,
  ): Promise<{ version: number; createdAt: number; definition: WorkflowDefinition; estimate: Estimate }> {
    const cur = await this.row(account, slug);
    if (cur.archivedAt) throw new ApiError("conflict", "the workflow is archived");
    const { errors, definition, models } = await this.check(account, cur.draft);
    if (errors.length) throw invalid(errors);
    const { max_cost, per_node } = models.estimate(definition!);
    const now = Date.now();
    for (let attempt = 0; attempt < 3; attempt++) {
      const top = await db(this.env)
        .select({ v: max(workflowVersions.version) })
        .from(workflowVersions)
        .where(eq(workflowVersions.workflowId, cur.id))
        .get();
      const version = (top?.v ?? 0) + 1;
      try {
        await db(this.env).insert(workflowVersions).values({ workflowId: cur.id, version, definition, createdAt: now });
        return { version, createdAt: now, definition: definition!, estimate: { max_cost, per_node } };
      } catch (e) {
        if (!uniqueViolation(e)) throw e;
      }
    }
    throw new ApiError("conflict", "another publish of this workflow is in progress; try again");
  }

  async setAlias(
    account: AuthedAccount,
    slug: string,
    alias: "production" | "staging",
    version: number,
  ): Promise<void> {
    const cur = await this.row(account, slug);
    const v = await db(this.env)
      .select()
      .from(workflowVersions)
      .where(and(eq(workflowVersions.workflowId, cur.id), eq(workflowVersions.version, version)))
      .get();
    if (!v) throw new ApiError("not_found", `version ${version} of '${slug}' does not exist`);
    const now = Date.now();
    await db(this.env)
      .insert(workflowAliases)
      .values({ workflowId: cur.id, alias, version, updatedAt: now })
      .onConflictDoUpdate({
        target: [workflowAliases.workflowId, workflowAliases.alias],
        set: { version, updatedAt: now },
      });
  }

  /** Archived workflows take no new runs; runs in flight finish. */
  async archive(account: AuthedAccount, slug: string): Promise<Row> {
    const cur = await this.row(account, slug);
    const r = await db(this.env)
      .update(workflows)
      .set({ archivedAt: cur.archivedAt ?? Date.now() })
      .where(eq(workflows.id, cur.id))
      .returning()
      .get();
    return r!;
  }

  private async versions(id: string) {
    return db(this.env)
      .select({ version: workflowVersions.version, createdAt: workflowVersions.createdAt })
      .from(workflowVersions)
      .where(eq(workflowVersions.workflowId, id))
      .orderBy(workflowVersions.version)
      .all();
  }

  private async aliases(id: string) {
    const rows = await db(this.env).select().from(workflowAliases).where(eq(workflowAliases.workflowId, id)).all();
    return Object.fromEntries(rows.map((r) => [r.alias, r.version])) as Partial<
      Record<"production" | "staging", number>
    >;
  }

  /**
   * `slug`, `slug@3`, `slug@production`, `slug@staging`, `slug@latest`. A bare slug runs production when it is set,
   * else the newest version. A draft is never run.
   */
  async resolve(account: AuthedAccount, ref: string): Promise<Resolved> {
    const [slug, pin] = ref.split("@", 2) as [string, string | undefined];
    const workflow = await this.row(account, slug);
    if (workflow.archivedAt) throw new ApiError("not_found", `workflow '${slug}' is archived`);
    const vs = await this.versions(workflow.id);
    const latest = vs.at(-1)?.version;
    const aliases = await this.aliases(workflow.id);
    let version: number | undefined;
    if (pin === undefined) version = aliases.production ?? latest;
    else if (/^[1-9][0-9]*$/.test(pin)) version = Number(pin);
    else if (pin === "latest") version = latest;
    else if (pin === "production" || pin === "staging") version = aliases[pin];
    else throw new ApiError("invalid_input", `'@${pin}' is not a version or alias (production, staging, latest)`);
    if (version === undefined)
      throw new ApiError(
        "not_found",
        pin ? `'${slug}@${pin}' is not set` : `workflow '${slug}' has no published version`,
      );
    const v = await db(this.env)
      .select()
      .from(workflowVersions)
      .where(and(eq(workflowVersions.workflowId, workflow.id), eq(workflowVersions.version, version)))
      .get();
    if (!v) throw new ApiError("not_found", `version ${version} of '${slug}' does not exist`);
    return { workflow, version, definition: v.definition as WorkflowDefinition };
  }

  async view(row: Row, base: string): Promise<WorkflowView> {
    const vs = await this.versions(row.id);
    const aliases = await this.aliases(row.id);
    const latest = vs.at(-1)?.version ?? null;
    const serving = aliases.production ?? latest;
    let inputSchema: Record<string, unknown> | null = null;
    if (serving !== null) {
      const v = await db(this.env)
        .select()
        .from(workflowVersions)
        .where(and(eq(workflowVersions.workflowId, row.id), eq(workflowVersions.version, serving)))
        .get();
      if (v) inputSchema = inputsJsonSchema(v.definition as WorkflowDefinition);
    }
    return {
      slug: row.slug,
      name: row.name,
      description: row.description,
      status: row.archivedAt ? "archived" : "active",
      draft: { definition: row.draft, etag: etag(row.draftRev), updated_at: iso(row.updatedAt) },
      versions: vs.map((v) => ({ version: v.version, created_at: iso(v.createdAt) })),
      aliases: { production: aliases.production ?? null, staging: aliases.staging ?? null, latest },
      serving,
      input_schema: inputSchema,
      created_at: iso(row.createdAt),
      run_url: `${base}/v2/workflows/${row.slug}`,
    };
  }

  /** The account's published workflows as catalog entries: the version a bare-slug run serves, its input schema. */
  async catalog(account: AuthedAccount, base: string): Promise<WorkflowCatalogEntry[]> {
    const out: WorkflowCatalogEntry[] = [];
    for (const w of await this.list(account)) {
      const r = await this.resolve(account, w.slug).catch(() => null);
      if (!r) continue;
      out.push({
        slug: w.slug,
        kind: "workflow",
        name: w.name,
        description: w.description,
        version: r.version,
        input_schema: inputsJsonSchema(r.definition),
        outputs: Object.keys(r.definition.outputs),
        models: [...new Set(Object.values(r.definition.nodes).map((n) => n.model))],
        run_url: `${base}/v2/workflows/${w.slug}`,
      });
    }
    return out;
  }

  etag(row: Row): string {
    return etag(row.draftRev);
  }
}
