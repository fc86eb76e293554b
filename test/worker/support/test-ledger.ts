import { AccountLedger } from "../../../src/durable-objects/account-ledger.ts";
import { LedgerBook } from "../../../src/durable-objects/account-ledger-book.ts";
import type { LedgerParts } from "../../../src/durable-objects/account-ledger-parts.ts";
import type { LedgerOp, LedgerOpResult } from "../../../src/durable-objects/account-ledger-types.ts";
import { userTables } from "../../../src/durable-objects/migrations.ts";

/**
 * The modules of a production AccountLedger instance (one reached with `runInDurableObject`), for tests that drive
 * what only the alarm or a restart does: expiry, the reconciler, rebuilding memory from SQLite.
 */
export const partsOf = (l: AccountLedger): LedgerParts => (l as unknown as { parts: LedgerParts }).parts;

/**
 * Test-only: the AccountLedger with the hooks its tests call, bound as TEST_LEDGER in vitest.config.ts. Production
 * code never reaches it; a test that needs a hook on the object production code used takes `partsOf` instead.
 */
export class TestLedger extends AccountLedger {
  /** Group commits made, and the operations they carried, since this object woke. */
  async commitStats(): Promise<{ commits: number; operations: number }> {
    return { ...this.parts.commit.stats };
  }

  /** Several operations in one call, applied in order in the next group commit; one result per operation. */
  async apply(ops: LedgerOp[]): Promise<LedgerOpResult[]> {
    return ops.length ? this.parts.commit.submit(ops) : [];
  }

  reload(): void {
    this.parts.reload();
  }

  /** The journal write of operation `opId` throws (after the writes before it); null ends the fault. */
  failJournalOf(opId: string | null): void {
    const book = this.parts.book;
    if (opId === null) {
      Reflect.deleteProperty(book, "journal");
      return;
    }
    book.journal = function (this: LedgerBook, ...args: Parameters<LedgerBook["journal"]>) {
      if (args[1] === opId) throw new Error("injected fault");
      LedgerBook.prototype.journal.apply(this, args);
    };
  }

  /**
   * Replaces every table (`_migrations` included) with `ddl` and its rows, as an object made before the migration
   * runner existed; `wake()` then upgrades it as a deployed object is upgraded.
   */
  replaceTables(ddl: string[]): void {
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (const t of userTables(sql)) sql.exec(`DROP TABLE "${t}"`);
      for (const q of ddl) sql.exec(q);
    });
  }

  override async wake(): Promise<void> {
    await super.wake();
  }
}
