import type { ChatMessage } from "../providers/chat-provider.ts";

// The letters are the spec's labels; what they mean is defined here, once, for the model.
export const categorizerSystemPrompt = `You classify requests for an AI orchestration service. Answer with exactly one letter: L, M or H.

M - a general question, explanation, advice, conversation or lookup that a capable model answers directly.
    Examples: "What are the benefits of renewable energy?", "Explain how vaccines work", "Hi, who are you?"
L - a single focused task or hard question that needs careful step-by-step reasoning, but one deliverable.
    Examples: "Prove that there are infinitely many primes", "Find the bug in this function", "Write a SQL query that..."
H - a complex project with several distinct deliverables or stages that should be planned and split into subtasks.
    Examples: "Create a complete marketing campaign with social posts, product images and a promotional video",
    "Research the EV market, analyse three competitors and write an executive report"

Reply with the letter only.`;

const maxCharsPerTurn = 2_000;
const maxCharsOfRequest = 8_000;

// The categorizer sees the request and a glimpse of the conversation, clipped: it needs the gist, not the whole text.
export function categorizerMessages(request: string, recentTurns: readonly ChatMessage[]): ChatMessage[] {
  const context = recentTurns
    .map(
      (turn) =>
        `${turn.role}: ${clip(typeof turn.content === "string" ? turn.content : "", maxCharsPerTurn)}`,
    )
    .join("\n");
  const body = context
    ? `Conversation so far:\n${context}\n\nRequest to classify:\n${clip(request, maxCharsOfRequest)}`
    : `Request to classify:\n${clip(request, maxCharsOfRequest)}`;
  return [
    { role: "system", content: categorizerSystemPrompt },
    { role: "user", content: body },
  ];
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)} […]`;
}
