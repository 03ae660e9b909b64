import type { Logger } from "pino";
import type { AppConfig } from "../config/index.ts";
import { notFound, OrchestratorError, toOrchestratorError } from "../core/errors.ts";
import type { IdGenerator } from "../core/ids.ts";
import { storedSessionId, visibleSessionId } from "../core/session-scope.ts";
import type { ModelClient } from "../models/model-client.ts";
import type { MessagePage, SessionRecord, SessionState, Store, StoredMessage } from "../store/store.ts";

export interface OpenedSession {
  readonly session: SessionRecord;
  readonly warmupRoles: readonly string[];
}

// Opening a session is the spec's "user opens the chat box": the session is created and the
// categorizer and fast models get a warm-up prompt in the background, so the first real call is quick.
export class SessionService {
  readonly #config: AppConfig;
  readonly #store: Store;
  readonly #models: ModelClient;
  readonly #newId: IdGenerator;
  readonly #logger: Logger;
  readonly #warmups = new Set<Promise<void>>();

  constructor(deps: {
    config: AppConfig;
    store: Store;
    models: ModelClient;
    newId: IdGenerator;
    logger: Logger;
  }) {
    this.#config = deps.config;
    this.#store = deps.store;
    this.#models = deps.models;
    this.#newId = deps.newId;
    this.#logger = deps.logger;
  }

  // `clientId`: the client's key id, under which its sessions are kept (undefined in open mode).
  async open(clientId: string | undefined): Promise<OpenedSession> {
    const stored = await this.#store.ensureSession(storedSessionId(clientId, this.#newId()));
    const session = { ...stored, id: visibleSessionId(stored.id) };
    const warmup = this.#config.routing.warmup;
    const roles = warmup.enabled ? warmup.roles : [];
    for (const role of roles) this.#track(this.#warm(role, warmup.prompt));
    return { session, warmupRoles: roles };
  }

  // Another client's session with the same id is not this client's: it is not found.
  // `page`: the newest `limit` messages before the message id `before`; without it, every message.
  async history(
    id: string,
    clientId: string | undefined,
    page?: MessagePage,
  ): Promise<{ session: SessionState; messages: StoredMessage[] }> {
    const stored = storedSessionId(clientId, id);
    const session = await this.#store.getSession(stored);
    if (!session) throw notFound("session", id);
    return { session: { ...session, id }, messages: await this.#store.listMessages(stored, page) };
  }

  // Deletes the session now, with its messages and summary. Another client's session is not found, as for
  // history. While a workflow of the session is still running it is refused: the run would post its result
  // to the session and bring it back; cancel the run (or wait for it) first.
  async delete(id: string, clientId: string | undefined): Promise<void> {
    const outcome = await this.#store.deleteSession(storedSessionId(clientId, id));
    if (outcome === "not_found") throw notFound("session", id);
    if (outcome === "running") {
      throw new OrchestratorError({
        kind: "logical",
        code: "session_busy",
        status: 409,
        message: `session '${id}' has a workflow still running; cancel it or wait for it to finish, then delete the session`,
      });
    }
  }

  // Lets shutdown and tests wait for warm-ups still in flight.
  async settled(): Promise<void> {
    await Promise.all([...this.#warmups]);
  }

  async #warm(role: string, prompt: string): Promise<void> {
    try {
      await this.#models.call(role, {
        messages: [{ role: "user", content: prompt }],
        purpose: "warmup",
        maxTokens: 4,
        temperature: 0,
      });
    } catch (error) {
      this.#logger.warn({ role, code: toOrchestratorError(error).code }, "warm-up call failed");
    }
  }

  #track(promise: Promise<void>): void {
    this.#warmups.add(promise);
    void promise.finally(() => this.#warmups.delete(promise));
  }
}
