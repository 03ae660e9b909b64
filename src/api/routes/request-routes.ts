import type { FastifyInstance } from "fastify";
import { requestRecordView } from "../request-record-view.ts";
import { requestParamsSchema } from "../schemas.ts";
import type { Tenancy } from "../tenancy.ts";
import { parseInput } from "../validation.ts";

// One request explained: its route, every upstream call it made and the run it started. With client keys,
// only the client that made the request sees it; to anyone else it is not found, like an unknown id.
export function registerRequestRoutes(app: FastifyInstance, tenancy: Tenancy): void {
  app.get("/requests/:id", async (request) => {
    const { id } = parseInput(requestParamsSchema, request.params, "path");
    return requestRecordView(id, await tenancy.of(request).requestRecord(id));
  });
}
