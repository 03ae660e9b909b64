import {
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  SqliteAdapter,
  SqliteDialect,
  type TransactionSettings,
} from "kysely";
import { TurnTakingLock } from "./turn-taking-lock.ts";

// How long statements may follow one another before the event loop gets a turn.
const sliceMs = 5;

// Kysely's SQLite dialect with fair, bounded turns on its one connection. Kysely's own mutex wakes every
// waiter at each release (n queued statements cost n² wake-ups) and hands the connection on in microtasks
// without ever yielding: a thousand workflows submitted at once queued thousands of statements that ran,
// with everything awaiting them, as one block of more than a second. Here waiters are served in order with
// one wake-up each, and after a few milliseconds of statements the event loop turns before the next.
export class TurnTakingSqliteDialect extends SqliteDialect {
  override createAdapter(): SqliteAdapter {
    return new SelfSerialisingSqliteAdapter();
  }

  override createDriver(): Driver {
    return new TurnTakingDriver(super.createDriver(), new TurnTakingLock(sliceMs));
  }
}

// Tells Kysely not to add its own mutex: the driver below serialises access to the connection itself.
class SelfSerialisingSqliteAdapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}

class TurnTakingDriver implements Driver {
  readonly #inner: Driver;
  readonly #lock: TurnTakingLock;

  constructor(inner: Driver, lock: TurnTakingLock) {
    this.#inner = inner;
    this.#lock = lock;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock.acquire();
    try {
      return await this.#inner.acquireConnection();
    } catch (error) {
      this.#lock.release();
      throw error;
    }
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    try {
      await this.#inner.releaseConnection(connection);
    } finally {
      this.#lock.release();
    }
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.#inner.savepoint?.(connection, name, compile);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.#inner.rollbackToSavepoint?.(connection, name, compile);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.#inner.releaseSavepoint?.(connection, name, compile);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}
