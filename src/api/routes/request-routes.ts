import type { FastifyInstance } from "fastify";
import { notFound } from "../../core/errors.ts";
import type { Store } from "../../store/store.ts";
import type { UsageLedger } from "../../telemetry/usage-ledger.ts";
import { clientIdOf } from "../client-identity.ts";
import { requestRecordView } from "../request-record-view.ts";
import { requestParamsSchema } from "../schemas.ts";
import { parseInput } from "../validation.ts";

// One request explained: its route, every upstream call it made and the run it started. With client keys,
// only the client that made the request sees it; to anyone else it is not found, like an unknown id.
export function registerRequestRoutes(
  app: FastifyInstance,
  deps: { store: Store; ledger: UsageLedger },
): void {
  app.get("/requests/:id", async (request) => {
    const { id } = parseInput(requestParamsSchema, request.params, "path");
    // Rows wait a moment for their batch: write them first, so the request just answered is there.
    await deps.ledger.flush();
    const record = await deps.store.usage.requestRecord(id, clientIdOf(request) ?? null);
    if (record.requests.length === 0 && record.calls.length === 0) throw notFound("request", id);
    return requestRecordView(id, record);
  });
}
