import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { routingSchema } from "../../../src/config/schema.ts";
import { noNeeds, type RoleFacts } from "../../../src/routing/capabilities.ts";
import type { Category } from "../../../src/routing/category.ts";
import type { QualityStanding } from "../../../src/routing/quality-standing.ts";
import {
  type Classification,
  decideRoute,
  ladderRoles,
  type RouteRequest,
  type RouterKnowledge,
} from "../../../src/routing/router.ts";

// The router as a table: a request and what the service knows in, a decision out. No HTTP, no model.

const policy = routingSchema.parse({});

const models: Record<string, RoleFacts> = {
  fast_ai: facts("fast_ai", "fast/model"),
  medium_ai: facts("medium_ai", "medium/model"),
  thinking_ai: facts("thinking_ai", "thinking/model", { contextWindow: 262_144 }),
  image_analysis_ai: facts("image_analysis_ai", "gemini/model", {
    contextWindow: 1_048_576,
    inputModalities: ["text", "image"],
  }),
};

function facts(role: string, model: string, overrides: Partial<RoleFacts> = {}): RoleFacts {
  return {
    role,
    model,
    contextWindow: 131_072,
    maxOutputTokens: 4096,
    supportedParameters: ["tools", "response_format", "structured_outputs", "temperature"],
    inputModalities: ["text"],
    allCircuitsOpen: false,
    ...overrides,
  };
}

function knowing(
  changes: Record<string, Partial<RoleFacts>> = {},
  quality: Partial<Record<Category, QualityStanding>> = {},
): RouterKnowledge {
  return {
    facts: (role) => {
      const base = models[role];
      return base && { ...base, ...changes[role] };
    },
    quality: (category) => quality[category],
  };
}

const request = (overrides: Partial<RouteRequest> = {}): RouteRequest => ({
  target: { kind: "auto" },
  contextTokens: 1_200,
  imageCount: 0,
  needs: noNeeds,
  ...overrides,
});

const labelled = (category: Category): Classification => ({ category, source: "model", ms: 212 });

function answerOf(decision: ReturnType<typeof decideRoute>) {
  assert.equal(decision.kind, "answer", JSON.stringify(decision));
  if (decision.kind !== "answer") throw new Error("unreachable");
  return decision;
}

describe("the router's decision", () => {
  it("asks for a label first, naming the likely route's role to start alongside it", () => {
    const decision = decideRoute(request(), policy, knowing());
    assert.equal(decision.kind, "classify");
    assert.equal(decision.kind === "classify" ? decision.speculate : undefined, "medium_ai");
  });

  it("names no speculation when it is off, or when the likely category is orchestrated", () => {
    const off = routingSchema.parse({ speculate: { enabled: false } });
    const h = routingSchema.parse({ speculate: { category: "H" } });
    for (const p of [off, h]) {
      const decision = decideRoute(request(), p, knowing());
      assert.equal(decision.kind, "classify");
      assert.equal(decision.kind === "classify" ? decision.speculate : "x", undefined);
    }
  });

  const rows: {
    name: string;
    request?: Partial<RouteRequest>;
    label?: Category;
    knows?: Record<string, Partial<RoleFacts>>;
    role: string | undefined;
    rule: string;
    escalation?: string[];
    skipped?: string[];
  }[] = [
    {
      name: "M goes to the medium role, escalating to L's",
      label: "M",
      role: "medium_ai",
      rule: "category",
      escalation: ["thinking_ai"],
    },
    {
      name: "L goes to the thinking role, with nowhere higher",
      label: "L",
      role: "thinking_ai",
      rule: "category",
      escalation: [],
    },
    {
      name: "images go to the image role at once",
      request: { imageCount: 2, needs: { ...noNeeds, images: true } },
      role: "image_analysis_ai",
      rule: "images",
    },
    {
      name: "a context past 100k goes to the thinking role",
      request: { contextTokens: 150_000 },
      role: "thinking_ai",
      rule: "large_context",
    },
    {
      name: "a context past 200k goes to the large-context role",
      request: { contextTokens: 250_000 },
      role: "image_analysis_ai",
      rule: "very_large_context",
    },
    {
      name: "a named role is answered by that role",
      request: { target: { kind: "role", role: "fast_ai" } },
      role: "fast_ai",
      rule: "explicit",
    },
    {
      name: "a named model is passed through",
      request: { target: { kind: "model", model: "vendor/x" } },
      role: undefined,
      rule: "explicit",
    },
    {
      name: "H with tools needs one answer: the thinking role",
      label: "H",
      request: { needs: { ...noNeeds, tools: true } },
      role: "thinking_ai",
      rule: "category",
    },
    {
      name: "a medium model without tool support is skipped for the next capable role",
      label: "M",
      request: { needs: { ...noNeeds, tools: true } },
      knows: { medium_ai: { supportedParameters: ["temperature"] } },
      role: "thinking_ai",
      rule: "category",
      skipped: ["medium_ai:no_tools"],
    },
    {
      name: "structured outputs the model lacks",
      label: "M",
      request: { needs: { ...noNeeds, jsonSchema: true } },
      knows: { medium_ai: { supportedParameters: ["tools"] } },
      role: "thinking_ai",
      rule: "category",
      skipped: ["medium_ai:no_json_schema"],
    },
    {
      name: "an unknown capability is assumed present",
      label: "M",
      request: { needs: { ...noNeeds, tools: true } },
      knows: { medium_ai: { supportedParameters: undefined } },
      role: "medium_ai",
      rule: "category",
      escalation: ["thinking_ai"],
    },
    {
      name: "a role whose every model has an open circuit is skipped instead of tried",
      label: "M",
      knows: { medium_ai: { allCircuitsOpen: true } },
      role: "thinking_ai",
      rule: "category",
      skipped: ["medium_ai:circuit_open"],
    },
    {
      name: "an image model that takes no images is skipped",
      request: { imageCount: 1, needs: { ...noNeeds, images: true } },
      knows: { image_analysis_ai: { inputModalities: ["text"] } },
      role: "image_analysis_ai",
      rule: "images",
      skipped: ["image_analysis_ai:no_images", "thinking_ai:no_images"],
    },
    {
      name: "a context that does not fit the medium model's window goes up",
      label: "M",
      request: { contextTokens: 90_000 },
      knows: { medium_ai: { contextWindow: 32_768 } },
      role: "thinking_ai",
      rule: "category",
      skipped: ["medium_ai:context"],
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const decision = decideRoute(
        request(row.request),
        policy,
        knowing(row.knows),
        row.label ? labelled(row.label) : undefined,
      );
      const answer = answerOf(decision);
      assert.equal(answer.role, row.role);
      assert.equal(answer.rule, row.rule);
      if (row.escalation) assert.deepEqual(answer.escalation, row.escalation);
      assert.deepEqual(
        answer.skipped.map((s) => `${s.role}:${s.reason}`),
        row.skipped ?? [],
      );
      assert.equal(answer.trace.at(-1)?.step, "pick");
    });
  }

  it("orchestrates H", () => {
    const decision = decideRoute(request(), policy, knowing(), labelled("H"));
    assert.equal(decision.kind, "orchestrate");
  });

  it("refuses a context past the hard limit whoever picked the model", () => {
    for (const target of [{ kind: "auto" as const }, { kind: "role" as const, role: "fast_ai" }]) {
      assert.throws(
        () => decideRoute(request({ target, contextTokens: 950_000 }), policy, knowing()),
        (error: { code?: string; status?: number }) =>
          error.code === "context_too_large" && error.status === 413,
      );
    }
  });

  it("takes the escalation ladder from config", () => {
    const custom = routingSchema.parse({
      categories: { L: "thinking_ai", M: "fast_ai", H: "orchestration" },
      escalation: { ladder: { M: "L" } },
    });
    assert.deepEqual(ladderRoles("M", custom), ["fast_ai", "thinking_ai"]);
    const decision = answerOf(decideRoute(request(), custom, knowing(), labelled("M")));
    assert.equal(decision.role, "fast_ai");
    assert.deepEqual(decision.escalation, ["thinking_ai"]);
    const noLadder = routingSchema.parse({ escalation: { ladder: {} } });
    assert.deepEqual(answerOf(decideRoute(request(), noLadder, knowing(), labelled("M"))).escalation, []);
    const disabled = routingSchema.parse({ escalation: { enabled: false } });
    assert.deepEqual(answerOf(decideRoute(request(), disabled, knowing(), labelled("M"))).escalation, []);
  });

  it("refuses a ladder that leads back to where it started", () => {
    assert.throws(() => routingSchema.parse({ escalation: { ladder: { M: "L", L: "M" } } }));
  });

  it("steps a category up its ladder while its judged quality falls short, and says so", () => {
    const standing: QualityStanding = {
      category: "M",
      role: "medium_ai",
      samples: 40,
      share: 0.6,
      low: 0.45,
      high: 0.73,
      steppedUp: true,
      since: 0,
    };
    const decision = answerOf(decideRoute(request(), policy, knowing({}, { M: standing }), labelled("M")));
    assert.equal(decision.role, "thinking_ai");
    assert.equal(decision.steppedUp, true);
    assert.match(
      decision.trace.find((t) => t.step === "quality")?.detail ?? "",
      /60% \(45%–73%, 40 verdicts\).*thinking_ai/,
    );
    const recovered = answerOf(
      decideRoute(request(), policy, knowing({}, { M: { ...standing, steppedUp: false } }), labelled("M")),
    );
    assert.equal(recovered.role, "medium_ai");
  });

  it("speculates on the route the likely label would really take, constraints included", () => {
    const decision = decideRoute(
      request({ needs: { ...noNeeds, tools: true } }),
      policy,
      knowing({ medium_ai: { supportedParameters: ["temperature"] } }),
    );
    assert.equal(decision.kind === "classify" ? decision.speculate : undefined, "thinking_ai");
  });

  it("traces every step with what it saw", () => {
    const decision = answerOf(
      decideRoute(
        request({ needs: { ...noNeeds, tools: true } }),
        policy,
        knowing({ medium_ai: { supportedParameters: ["temperature"] } }),
        labelled("M"),
      ),
    );
    assert.deepEqual(
      decision.trace.map((t) => t.step),
      ["limit", "pre_rule", "categorizer", "route_table", "constraint", "pick"],
    );
    assert.equal(decision.trace[2]?.ms, 212);
    assert.match(decision.trace[4]?.detail ?? "", /medium_ai skipped: medium\/model does not support tools/);
  });
});
