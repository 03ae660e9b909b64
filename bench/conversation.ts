import { startOrchestrator } from "./lib/processes.ts";
import { markdownTable, round, writeResult } from "./lib/report.ts";

// One long conversation, as the issue measured it: the offline provider (no network, no upstream latency),
// one session, a 1.4 KB message per turn, 400 turns one after another. Service time per turn is read at turns
// 10, 100 and 400 (the median of the ten turns ending there), after a warm-up session, so the ratio 400/10
// compares the same process at two points of one conversation. The same run is made with the history policy
// as shipped (sessions.history.maxTokens 16000, with the rolling summary) and with maxTokens 0 (the whole
// history, as before), each in a fresh process; upstream input tokens per turn come from /metrics
// (orchestrator_upstream_tokens_total, input), so they include the categorizer's and the summarizer's calls.
const turns = Number(process.env.BENCH_CONVERSATION_TURNS ?? 400);
const repetitions = Number(process.env.BENCH_REPETITIONS ?? 3);
const checkpoints = [10, 100, turns];
const warmupTurns = 30;

// A plain question of 1.4 KB (the local categorizer the offline mode uses labels it M).
const message = (turn: number) =>
  `Turn ${turn}. ${"Tell me a little more about the old harbour, its boats, the people who work there and the weather along that coast in the autumn months. ".repeat(11)}`.slice(
    0,
    1_400,
  );

interface PolicyRun {
  readonly policy: string;
  // Median service time (ms) of the ten turns ending at each checkpoint.
  readonly msAt: Record<number, number>;
  // Upstream input tokens per turn over the ten turns ending at each checkpoint, and over the last 100.
  readonly inputTokensAt: Record<number, number>;
  readonly inputTokensLast100: number;
  readonly contextTokensAt: Record<number, number>;
  readonly rulesAt400: string;
}

// What the benchmark reads of the answers of POST /sessions and POST /chat.
interface Reply {
  readonly session_id: string;
  readonly routing: { readonly context_tokens: number; readonly rule: string };
}

async function post(url: string, path: string, body: unknown): Promise<Reply> {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Reply;
}

async function inputTokens(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("orchestrator_upstream_tokens_total{") && line.includes('direction="input"')) {
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return total;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

async function conversation(maxTokens: number): Promise<PolicyRun> {
  const orchestrator = await startOrchestrator(
    "http://127.0.0.1:9",
    {
      rateLimits: { clients: { requestsPerMinute: 0 } },
      cache: { enabled: false },
      sessions: { history: { maxTokens } },
    },
    { offline: true },
  );
  try {
    const { url } = orchestrator;
    const warm = (await post(url, "/sessions", {})).session_id;
    for (let turn = 1; turn <= warmupTurns; turn++)
      await post(url, "/chat", { session_id: warm, message: message(turn) });
    const session = (await post(url, "/sessions", {})).session_id;
    const ms: number[] = [];
    const tokensAfter: number[] = [await inputTokens(url)];
    const context: number[] = [];
    const rules = new Map<string, number>();
    for (let turn = 1; turn <= turns; turn++) {
      const started = performance.now();
      const reply = await post(url, "/chat", { session_id: session, message: message(turn) });
      ms.push(performance.now() - started);
      context.push(reply.routing.context_tokens);
      if (turn > turns - 10) rules.set(reply.routing.rule, (rules.get(reply.routing.rule) ?? 0) + 1);
      if (checkpoints.includes(turn + 10) || checkpoints.includes(turn) || turn === turns - 100) {
        tokensAfter[turn] = await inputTokens(url);
      }
    }
    const msAt: Record<number, number> = {};
    const inputTokensAt: Record<number, number> = {};
    const contextTokensAt: Record<number, number> = {};
    for (const at of checkpoints) {
      msAt[at] = round(median(ms.slice(at - 10, at)));
      inputTokensAt[at] = Math.round(((tokensAfter[at] ?? 0) - (tokensAfter[at - 10] ?? 0)) / 10);
      contextTokensAt[at] = context[at - 1] ?? 0;
    }
    return {
      policy: maxTokens === 0 ? "whole history (maxTokens 0)" : `window ${maxTokens} + summary`,
      msAt,
      inputTokensAt,
      inputTokensLast100: Math.round(((tokensAfter[turns] ?? 0) - (tokensAfter[turns - 100] ?? 0)) / 100),
      contextTokensAt,
      rulesAt400: [...rules].map(([rule, n]) => `${rule} ×${n}`).join(", "),
    };
  } finally {
    await orchestrator.stop();
  }
}

export async function conversationBench(): Promise<string> {
  const runs: { repetition: number; runs: PolicyRun[] }[] = [];
  for (let repetition = 1; repetition <= repetitions; repetition++) {
    runs.push({ repetition, runs: [await conversation(16_000), await conversation(0)] });
  }
  const rows: (string | number)[][] = [];
  for (const { repetition, runs: pair } of runs) {
    for (const run of pair) {
      rows.push([
        repetition,
        run.policy,
        ...checkpoints.map((at) => run.msAt[at] ?? 0),
        round((run.msAt[turns] ?? 0) / (run.msAt[10] ?? 1)),
        ...checkpoints.map((at) => run.inputTokensAt[at] ?? 0),
        run.inputTokensLast100,
        run.contextTokensAt[turns] ?? 0,
        run.rulesAt400,
      ]);
    }
  }
  const table = markdownTable(
    [
      "rep",
      "history",
      ...checkpoints.map((at) => `ms/turn @${at}`),
      `ratio ${turns}/10`,
      ...checkpoints.map((at) => `input tokens/turn @${at}`),
      `input tokens/turn, last 100`,
      `context tokens @${turns}`,
      `rule, last 10 turns`,
    ],
    rows,
  );
  writeResult("conversation", { turns, repetitions, runs }, table);
  return `## Conversation: service time and tokens per turn over ${turns} turns (offline provider)\n\n${table}`;
}
