import { Agent, request } from "node:http";
import { loadavg } from "node:os";
import { defaultModels } from "../src/config/defaults/models.ts";
import type { ModelCalls } from "./lib/labelling-upstream.ts";
import { type Running, startLabellingUpstream, startOrchestrator } from "./lib/processes.ts";
import { markdownTable, round, writeResult } from "./lib/report.ts";

// Time to first byte. The same M question to the medium role directly, to "model": "auto" and to /chat,
// one request at a time (so the figure is latency, not throughput), in front of an upstream that waits a
// fixed latency before every call's first byte. "auto" and /chat ask the categorizer first; each figure is
// a ratio of medians against the direct call in the same repetition. The series take turns request by
// request, so a busy machine slows them alike. Then L, H and M traffic through "auto", with /stats and the
// upstream's own call counts read around each mix: what speculative calls (started before the label and
// aborted when it disagrees) cost, per request and as a share of the spend.
const latencyMs = Number(process.env.BENCH_TTFB_LATENCY_MS ?? 400);
const requestsPerSeries = Number(process.env.BENCH_TTFB_REQUESTS ?? 20);
const warmupRounds = Number(process.env.BENCH_TTFB_WARMUP ?? 1);
const wasteRequests = Number(process.env.BENCH_TTFB_WASTE_REQUESTS ?? 10);
const streamTailMs = Number(process.env.BENCH_TTFB_STREAM_MS ?? 50);
const repetitions = Number(process.env.BENCH_REPETITIONS ?? 2);
const wasteConcurrency = 10;
// What a medium-length answer reports generating; the label is 1 token, the plan its length.
const answerTokens = 300;
const goal = 1.15;

type Category = "L" | "M" | "H";
const question = "What are the benefits of renewable energy?";
// Every text is new (the repetition, round and series in it), so no answer comes from the label memo or a
// cache: each "auto" and /chat request pays for a categorizer call, as a first-time question does.
const textFor = (category: Category, tag: string) => `[${category}] ${question} (${tag})`;

interface Series {
  readonly name: string;
  readonly path: string;
  readonly streamed: boolean;
  // The category the service should report; null for the direct call, which names its role.
  readonly expects: Category | null;
  readonly body: (text: string) => Record<string, unknown>;
}

const messagesOf = (text: string) => [{ role: "user", content: text }];
const series: readonly Series[] = [
  {
    name: "direct, streamed",
    path: "/v1/chat/completions",
    streamed: true,
    expects: null,
    body: (text) => ({ model: "medium_ai", stream: true, messages: messagesOf(text) }),
  },
  {
    name: "direct",
    path: "/v1/chat/completions",
    streamed: false,
    expects: null,
    body: (text) => ({ model: "medium_ai", messages: messagesOf(text) }),
  },
  {
    name: "auto, streamed",
    path: "/v1/chat/completions",
    streamed: true,
    expects: "M",
    body: (text) => ({ model: "auto", stream: true, messages: messagesOf(text) }),
  },
  { name: "/chat", path: "/chat", streamed: false, expects: "M", body: (text) => ({ message: text }) },
  {
    name: "/chat, streamed",
    path: "/chat",
    streamed: true,
    expects: "M",
    body: (text) => ({ message: text, stream: true }),
  },
];

interface Timing {
  readonly status: number;
  readonly category: string | null;
  // From the request's start: the first byte of the body, the first chunk carrying text (the whole body
  // when not streamed), and the end of the body.
  readonly firstByteMs: number;
  readonly firstTextMs: number;
  readonly endMs: number;
}

// One POST, timed with the body's first byte, its first text and its end.
function timed(base: string, agent: Agent, path: string, body: unknown, streamed: boolean): Promise<Timing> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = request(
      `${base}${path}`,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        let firstByteMs: number | undefined;
        let firstTextMs: number | undefined;
        let text = "";
        let scanned = 0;
        let category = headerCategory(res.headers["x-orchestrator-category"]);
        res.setEncoding("utf8");
        res.on("data", (piece: string) => {
          const at = performance.now() - start;
          firstByteMs ??= at;
          text += piece;
          if (!streamed || firstTextMs !== undefined) return;
          // Complete events only; the first whose delta carries text marks the first token.
          const end = text.lastIndexOf("\n\n");
          if (end < scanned) return;
          for (const event of text.slice(scanned, end).split("\n\n")) {
            const chunk = parseEvent(event);
            category ??= categoryOf(chunk?.orchestrator);
            const content = chunk?.choices?.[0]?.delta?.content;
            if (typeof content === "string" && content !== "") {
              firstTextMs = at;
              break;
            }
          }
          scanned = end + 2;
        });
        res.on("end", () => {
          const endMs = performance.now() - start;
          if (!streamed) category ??= categoryOf(parseJson(text));
          resolve({
            status: res.statusCode ?? 0,
            category,
            firstByteMs: firstByteMs ?? endMs,
            firstTextMs: firstTextMs ?? endMs,
            endMs,
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

interface Chunk {
  readonly orchestrator?: unknown;
  readonly choices?: ReadonlyArray<{ readonly delta?: { readonly content?: unknown } }>;
}

function parseEvent(event: string): Chunk | undefined {
  const data = event
    .split("\n")
    .find((line) => line.startsWith("data: "))
    ?.slice(6);
  return data === undefined || data === "[DONE]" ? undefined : (parseJson(data) as Chunk | undefined);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const headerCategory = (value: string | string[] | undefined) =>
  typeof value === "string" && value !== "none" ? value : null;

function categoryOf(value: unknown): string | null {
  const category = (value as { category?: unknown } | undefined)?.category;
  return typeof category === "string" ? category : null;
}

const percentile = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
};

interface SeriesFigures {
  readonly requests: number;
  readonly failed: number;
  readonly misrouted: number;
  readonly firstByteMs: { p50: number; p90: number };
  readonly firstTextMs: { p50: number; p90: number };
  readonly endMs: { p50: number; p90: number };
}

function figuresOf(timings: readonly Timing[], expects: Category | null): SeriesFigures {
  const ok = timings.filter((t) => t.status === 200);
  const spread = (pick: (t: Timing) => number) => ({
    p50: round(percentile(ok.map(pick), 50), 1),
    p90: round(percentile(ok.map(pick), 90), 1),
  });
  return {
    requests: timings.length,
    failed: timings.length - ok.length,
    misrouted: expects === null ? 0 : ok.filter((t) => t.category !== expects).length,
    firstByteMs: spread((t) => t.firstByteMs),
    firstTextMs: spread((t) => t.firstTextMs),
    endMs: spread((t) => t.endMs),
  };
}

// Sequential rounds, one request of each series per round, starting each round with another series.
async function measureLatency(target: Running, repetition: number): Promise<Record<string, SeriesFigures>> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const timings = new Map<string, Timing[]>(series.map((s) => [s.name, []]));
  try {
    for (let round = 0; round < warmupRounds + requestsPerSeries; round++) {
      const order = [...series.slice(round % series.length), ...series.slice(0, round % series.length)];
      for (const s of order) {
        const text = textFor("M", `r${repetition} #${round} ${s.name}`);
        const timing = await timed(target.url, agent, s.path, s.body(text), s.streamed);
        if (round >= warmupRounds) timings.get(s.name)?.push(timing);
      }
    }
  } finally {
    agent.destroy();
  }
  return Object.fromEntries(series.map((s) => [s.name, figuresOf(timings.get(s.name) ?? [], s.expects)]));
}

// Spend as the service reports it, and the speculation figures once /stats has them.
interface StatsSnapshot {
  readonly spendUsd: number;
  readonly refuted?: number;
  readonly confirmed?: number;
  readonly wastedUsd?: number;
  readonly shareOfSpend?: number;
}

async function statsOf(target: Running): Promise<StatsSnapshot> {
  const response = await fetch(`${target.url}/stats?since=all`);
  if (!response.ok) throw new Error(`GET /stats answered ${response.status}`);
  const stats = (await response.json()) as {
    cost?: { total_usd?: number };
    routing?: { speculation?: Record<string, unknown> };
  };
  const speculation = stats.routing?.speculation ?? {};
  const numberAt = (key: string) => {
    const value = speculation[key];
    return typeof value === "number" ? value : undefined;
  };
  const refuted = numberAt("refuted");
  const confirmed = numberAt("confirmed");
  const wastedUsd = numberAt("wasted_usd");
  const shareOfSpend = numberAt("share_of_spend");
  return {
    spendUsd: stats.cost?.total_usd ?? 0,
    ...(refuted === undefined ? {} : { refuted }),
    ...(confirmed === undefined ? {} : { confirmed }),
    ...(wastedUsd === undefined ? {} : { wastedUsd }),
    ...(shareOfSpend === undefined ? {} : { shareOfSpend }),
  };
}

// An aborted call reaches the ledger once its abort has settled in the service, just after the upstream saw
// the hang-up: read until two reads a moment apart agree.
async function steadyStatsOf(target: Running): Promise<StatsSnapshot> {
  let last = await statsOf(target);
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = await statsOf(target);
    if (JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
  return last;
}

interface UpstreamCalls {
  readonly inFlight: number;
  readonly models: Record<string, ModelCalls>;
}

async function upstreamCallsOf(upstream: Running): Promise<UpstreamCalls> {
  const response = await fetch(`${upstream.url}/bench/calls`);
  return (await response.json()) as UpstreamCalls;
}

// Prices by upstream model id, from the built-in catalog the service prices with (fallbacks included).
const priceByModel = new Map<string, { inputPerMillion: number; outputPerMillion: number }>();
for (const role of Object.values(defaultModels) as Array<{
  model: string;
  pricing?: { inputPerMillion: number; outputPerMillion: number };
  fallbacks?: readonly string[];
}>) {
  if (!role.pricing) continue;
  for (const model of [role.model, ...(role.fallbacks ?? [])]) {
    if (!priceByModel.has(model)) priceByModel.set(model, role.pricing);
  }
}

function priceOf(model: string, promptTokens: number, completionTokens: number): number {
  const price = priceByModel.get(model);
  if (!price) return 0;
  return (promptTokens * price.inputPerMillion + completionTokens * price.outputPerMillion) / 1_000_000;
}

// The speculated call is the M route's, the medium role's model (or a fallback of it); neither the L route
// (the thinking role) nor the H route (the fast role's acknowledgement and tasks, the thinking role's plan
// and final answer) calls it, so on L and H traffic every call to it is a refuted speculation.
const speculatedModels = new Set<string>([
  defaultModels.medium_ai.model,
  ...defaultModels.medium_ai.fallbacks,
]);

// The upstream's side of a mix, from its own counts: the calls it received, those the service hung up on,
// the refuted speculative calls (on L and H traffic), and the price of every call as if each had run to its
// end (a refuted call priced whole: an upper bound on what a provider bills for it).
function upstreamSide(before: UpstreamCalls, after: UpstreamCalls, mix: Category) {
  let calls = 0;
  let aborted = 0;
  let speculated = 0;
  let speculatedUsd = 0;
  let allUsd = 0;
  const byModel: Record<string, { received: number; aborted: number }> = {};
  for (const [model, now] of Object.entries(after.models)) {
    const then = before.models[model];
    const d = (key: keyof ModelCalls) => now[key] - (then?.[key] ?? 0);
    const whole = priceOf(
      model,
      d("promptTokens") + d("abortedPromptTokens"),
      d("completionTokens") + d("abortedCompletionTokens"),
    );
    calls += d("received");
    aborted += d("aborted");
    allUsd += whole;
    if (mix !== "M" && speculatedModels.has(model)) {
      speculated += d("received");
      speculatedUsd += whole;
    }
    if (d("received") > 0) byModel[model] = { received: d("received"), aborted: d("aborted") };
  }
  return { calls, aborted, speculated, speculatedUsd, allUsd, byModel };
}

async function settled(upstream: Running): Promise<UpstreamCalls> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const calls = await upstreamCallsOf(upstream);
    if (calls.inFlight === 0 || Date.now() > deadline) return calls;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface MixFigures {
  readonly mix: Category;
  readonly requests: number;
  readonly failed: number;
  readonly misrouted: number;
  readonly spendUsd: number;
  readonly refuted?: number;
  readonly confirmed?: number;
  readonly wastedUsd?: number;
  // /stats' own share of spend after the mix (over the whole run so far), as the service reports it.
  readonly reportedShareOfSpend?: number;
  readonly upstream: ReturnType<typeof upstreamSide>;
}

const delta = (after: number | undefined, before: number | undefined) =>
  after === undefined || before === undefined ? undefined : after - before;

// One traffic mix through "auto", streamed, a few at a time (waste is a count, not a latency).
async function measureMix(
  target: Running,
  upstream: Running,
  mix: Category,
  repetition: number,
): Promise<MixFigures> {
  const statsBefore = await statsOf(target);
  const callsBefore = await settled(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: wasteConcurrency });
  const timings: Timing[] = [];
  try {
    let next = 0;
    const worker = async () => {
      while (next < wasteRequests) {
        const n = next++;
        const text = textFor(mix, `r${repetition} waste #${n}`);
        const body = { model: "auto", stream: true, messages: messagesOf(text) };
        timings.push(await timed(target.url, agent, "/v1/chat/completions", body, true));
      }
    };
    await Promise.all(Array.from({ length: Math.min(wasteConcurrency, wasteRequests) }, worker));
  } finally {
    agent.destroy();
  }
  const callsAfter = await settled(upstream);
  const statsAfter = await steadyStatsOf(target);
  const refuted = delta(statsAfter.refuted, statsBefore.refuted);
  const confirmed = delta(statsAfter.confirmed, statsBefore.confirmed);
  const wastedUsd = delta(statsAfter.wastedUsd, statsBefore.wastedUsd);
  return {
    mix,
    requests: timings.length,
    failed: timings.filter((t) => t.status !== 200).length,
    misrouted: timings.filter((t) => t.status === 200 && t.category !== mix).length,
    spendUsd: statsAfter.spendUsd - statsBefore.spendUsd,
    ...(refuted === undefined ? {} : { refuted }),
    ...(confirmed === undefined ? {} : { confirmed }),
    ...(wastedUsd === undefined ? {} : { wastedUsd }),
    ...(statsAfter.shareOfSpend === undefined ? {} : { reportedShareOfSpend: statsAfter.shareOfSpend }),
    upstream: upstreamSide(callsBefore, callsAfter, mix),
  };
}

interface Repetition {
  readonly repetition: number;
  readonly loadAverage: { start: number; end: number };
  readonly latency: Record<string, SeriesFigures>;
  readonly waste: readonly MixFigures[];
}

async function repetition(n: number): Promise<Repetition> {
  const startLoad = loadavg()[0] ?? 0;
  const categorizer = defaultModels.categorizer_ai;
  const upstream = await startLabellingUpstream({
    latencyMs,
    streamTailMs,
    categorizerModels: [categorizer.model, ...categorizer.fallbacks],
    answerTokens,
  });
  // As shipped (speculation and the label memo included), but for what one client sending many requests
  // would trip over: the client rate limit, and the response cache.
  const orchestrator = await startOrchestrator(upstream.url, {
    rateLimits: { clients: { requestsPerMinute: 0 } },
    cache: { enabled: false },
  });
  try {
    const latency = await measureLatency(orchestrator, n);
    const waste: MixFigures[] = [];
    for (const mix of ["M", "L", "H"] as const) waste.push(await measureMix(orchestrator, upstream, mix, n));
    return {
      repetition: n,
      loadAverage: { start: round(startLoad), end: round(loadavg()[0] ?? 0) },
      latency,
      waste,
    };
  } finally {
    await Promise.all([orchestrator.stop(), upstream.stop()]);
  }
}

interface Ratio {
  readonly name: string;
  readonly goal: string;
  readonly of: { series: string; at: "firstByteMs" | "firstTextMs" | "endMs" };
  readonly against: { series: string; at: "firstByteMs" | "firstTextMs" | "endMs" };
}

export const ttfbRatios: readonly Ratio[] = [
  {
    name: "auto / direct, streamed: first byte",
    goal: `<= ${goal}`,
    of: { series: "auto, streamed", at: "firstByteMs" },
    against: { series: "direct, streamed", at: "firstByteMs" },
  },
  {
    name: "/chat / direct, streamed: first byte",
    goal: `<= ${goal}`,
    of: { series: "/chat, streamed", at: "firstByteMs" },
    against: { series: "direct, streamed", at: "firstByteMs" },
  },
  {
    name: "/chat / direct, not streamed: whole answer",
    goal: `<= ${goal}`,
    of: { series: "/chat", at: "endMs" },
    against: { series: "direct", at: "endMs" },
  },
  {
    name: "auto / direct, streamed: first text",
    goal: "(diagnostic)",
    of: { series: "auto, streamed", at: "firstTextMs" },
    against: { series: "direct, streamed", at: "firstTextMs" },
  },
  {
    name: "auto / direct, streamed: whole answer",
    goal: "(diagnostic)",
    of: { series: "auto, streamed", at: "endMs" },
    against: { series: "direct, streamed", at: "endMs" },
  },
];

function ratioOf(r: Repetition, ratio: Ratio, p: "p50" | "p90"): number {
  const of = r.latency[ratio.of.series]?.[ratio.of.at][p] ?? Number.NaN;
  const against = r.latency[ratio.against.series]?.[ratio.against.at][p] ?? Number.NaN;
  return round(of / against);
}

const usd = (value: number | undefined) => (value === undefined ? "n/a" : value.toFixed(8));
const share = (part: number | undefined, whole: number) =>
  part === undefined ? "n/a" : whole > 0 ? `${round((part / whole) * 100, 1)} %` : "-";

export async function ttfb(): Promise<string> {
  const measured: Repetition[] = [];
  for (let n = 1; n <= repetitions; n++) measured.push(await repetition(n));

  const ratiosTable = markdownTable(
    ["figure (median / p90)", "goal", ...measured.map((r) => `rep ${r.repetition}`), "met in"],
    ttfbRatios.map((ratio) => {
      const medians = measured.map((r) => ratioOf(r, ratio, "p50"));
      const cells = measured.map((r, i) => `${medians[i]} / ${ratioOf(r, ratio, "p90")}`);
      const met = medians.filter((v) => v <= goal).length;
      return [
        ratio.name,
        ratio.goal,
        ...cells,
        ratio.goal.startsWith("(") ? "-" : `${met}/${medians.length}`,
      ];
    }),
  );
  const latencyTable = markdownTable(
    [
      "repetition",
      "series",
      "requests",
      "first byte p50 / p90 ms",
      "first text p50 / p90 ms",
      "whole answer p50 / p90 ms",
      "failed",
      "misrouted",
    ],
    measured.flatMap((r) =>
      series.map((s) => {
        const f = r.latency[s.name];
        if (!f) return [r.repetition, s.name, 0, "-", "-", "-", "-", "-"];
        return [
          r.repetition,
          s.name,
          f.requests,
          `${f.firstByteMs.p50} / ${f.firstByteMs.p90}`,
          `${f.firstTextMs.p50} / ${f.firstTextMs.p90}`,
          `${f.endMs.p50} / ${f.endMs.p90}`,
          f.failed,
          f.misrouted,
        ];
      }),
    ),
  );
  const wasteTable = markdownTable(
    [
      "repetition",
      "traffic through auto",
      "requests",
      "spend USD / request",
      "speculation refuted / confirmed",
      "wasted USD / request",
      "wasted share of spend",
      "upstream calls / request",
      "aborted upstream calls / request",
      "refuted speculative upstream calls / request",
      "their price, whole, USD / request",
      "their share of the upstream-priced spend",
      "failed / misrouted",
    ],
    measured.flatMap((r) =>
      r.waste.map((w) => {
        const per = (value: number | undefined) => (value === undefined ? undefined : value / w.requests);
        const up = w.upstream;
        const speculative = w.mix !== "M";
        return [
          r.repetition,
          w.mix,
          w.requests,
          usd(per(w.spendUsd)),
          w.refuted === undefined && w.confirmed === undefined
            ? "n/a"
            : `${w.refuted ?? "n/a"} / ${w.confirmed ?? "n/a"}`,
          usd(per(w.wastedUsd)),
          share(w.wastedUsd, w.spendUsd),
          round(up.calls / w.requests),
          round(up.aborted / w.requests),
          speculative ? round(up.speculated / w.requests) : "-",
          speculative ? usd(per(up.speculatedUsd)) : "-",
          speculative ? share(up.speculatedUsd, up.allUsd) : "-",
          `${w.failed} / ${w.misrouted}`,
        ];
      }),
    ),
  );
  const loads = measured.map((r) => `rep ${r.repetition}: ${r.loadAverage.start} → ${r.loadAverage.end}`);
  const tables = `${ratiosTable}\n\n${latencyTable}\n\n${wasteTable}\n\nLoad average (1 min): ${loads.join("; ")}`;
  writeResult(
    "ttfb",
    {
      latencyMs,
      streamTailMs,
      requestsPerSeries,
      warmupRounds,
      wasteRequests,
      wasteConcurrency,
      answerTokens,
      repetitions,
      measured,
    },
    tables,
  );
  return `### Time to first byte (upstream latency ${latencyMs} ms, ${requestsPerSeries} requests per series, ${repetitions} repetitions)\n\n${tables}`;
}
