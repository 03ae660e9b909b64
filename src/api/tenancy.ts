import type { FastifyRequest } from "fastify";
import type { OpenedSession, SessionService } from "../chat/session-service.ts";
import { notFound } from "../core/errors.ts";
import { storedSessionId } from "../core/session-scope.ts";
import type {
  ArtifactRecord,
  MessagePage,
  RunRecord,
  SessionState,
  Store,
  StoredMessage,
  TaskRecord,
} from "../store/store.ts";
import type { RequestRecord } from "../store/usage-store.ts";
import type { WorkflowDefinition } from "../workflows/workflow-schema.ts";
import type { WorkflowService } from "../workflows/workflow-service.ts";
import { clientIdOf } from "./client-identity.ts";
import type { ClientResponses, ResponseMemory } from "./responses/response-memory.ts";

export interface TenancyDeps {
  readonly store: Store;
  readonly sessions: SessionService;
  readonly workflows: WorkflowService;
  // Rows wait a moment for their batch; flushed before a request record is read (see requestRecord).
  readonly ledger: { flush(): Promise<void> };
  readonly responses: ResponseMemory;
}

// The one door to what belongs to a client: routes reach sessions, runs (and their events), artifacts,
// stored responses and request records only through the ClientScope of the request, built from the
// validated client id (client auth), so no endpoint can forget the owner check. Whatever belongs to another
// client is not found, with the same 404 as an id that does not exist, so ids cannot be probed.
export class Tenancy {
  readonly #deps: TenancyDeps;

  constructor(deps: TenancyDeps) {
    this.#deps = deps;
  }

  of(request: FastifyRequest): ClientScope {
    return this.forClient(clientIdOf(request));
  }

  // `clientId`: the validated key's id; undefined in open mode, where everything is the one client's.
  forClient(clientId: string | undefined): ClientScope {
    return new ClientScope(this.#deps, clientId);
  }
}

export class ClientScope {
  readonly #deps: TenancyDeps;
  readonly clientId: string | undefined;

  constructor(deps: TenancyDeps, clientId: string | undefined) {
    this.#deps = deps;
    this.clientId = clientId;
  }

  // What the client's new runs and artifacts are stamped with (null in open mode).
  get owner(): string | null {
    return this.clientId ?? null;
  }

  // The stored id of the client's session `given`: two clients choosing the same id get separate sessions.
  sessionId(given: string): string {
    return storedSessionId(this.clientId, given);
  }

  openSession(): Promise<OpenedSession> {
    return this.#deps.sessions.open(this.clientId);
  }

  session(id: string, page?: MessagePage): Promise<{ session: SessionState; messages: StoredMessage[] }> {
    return this.#deps.sessions.history(id, this.clientId, page);
  }

  deleteSession(id: string): Promise<void> {
    return this.#deps.sessions.delete(id, this.clientId);
  }

  // The client's run, or the 404 of an unknown id.
  async run(id: string): Promise<RunRecord> {
    const record = await this.#deps.store.getRun(id);
    if (!record || record.owner !== this.owner) throw notFound("workflow", id);
    return record;
  }

  async runWithTasks(id: string): Promise<{ run: RunRecord; tasks: TaskRecord[] }> {
    const run = await this.run(id);
    return { run, tasks: await this.#deps.store.listTasks(id) };
  }

  async submitRun(
    definition: WorkflowDefinition,
    options: { timeoutSeconds?: number | undefined },
  ): Promise<{ id: string; estimateUsd: number }> {
    return this.#deps.workflows.submit(definition, { ...options, owner: this.owner });
  }

  // Waits for a run the client just submitted to end. Waiting reveals nothing of the run: reading it after
  // goes through run().
  async waitForSubmitted(id: string): Promise<void> {
    await this.#deps.workflows.waitFor(id);
  }

  // Cancels the client's run and waits for it to stop; false (with the run as it was) when it was not
  // running.
  async cancelRun(id: string): Promise<{ cancelled: boolean; run: RunRecord }> {
    const run = await this.run(id);
    const cancelled = await this.#deps.workflows.cancel(id);
    if (cancelled) await this.#deps.workflows.waitFor(id);
    return { cancelled, run };
  }

  async resumeRun(id: string): Promise<void> {
    await this.run(id);
    await this.#deps.workflows.resume(id);
  }

  // An artifact belongs to the client whose run (or images request) made it.
  async artifact(id: string): Promise<ArtifactRecord> {
    const { store } = this.#deps;
    const artifact = await store.getArtifact(id);
    const run = artifact?.runId && artifact.owner == null ? await store.getRun(artifact.runId) : undefined;
    const owner = artifact?.owner ?? run?.owner ?? null;
    if (!artifact || owner !== this.owner) throw notFound("artifact", id);
    return artifact;
  }

  saveArtifact(artifact: Omit<ArtifactRecord, "createdAt" | "owner">): Promise<ArtifactRecord> {
    return this.#deps.store.saveArtifact({ ...artifact, owner: this.owner });
  }

  // The request log rows and calls of one of the client's requests (the store query filters by client).
  async requestRecord(id: string): Promise<RequestRecord> {
    // Write waiting rows first, so the request just answered is there.
    await this.#deps.ledger.flush();
    const record = await this.#deps.store.usage.requestRecord(id, this.owner);
    if (record.requests.length === 0 && record.calls.length === 0) throw notFound("request", id);
    return record;
  }

  // The responses the client stored (store: true): no client sees another's.
  get responses(): ClientResponses {
    return this.#deps.responses.of(this.clientId);
  }
}
