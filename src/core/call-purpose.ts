// Why a call is made. Real providers ignore it; the simulated provider answers by it.
export type CallPurpose =
  | "categorize"
  | "acknowledge"
  | "answer"
  | "plan"
  | "task"
  | "finish"
  | "explain_failure"
  | "warmup"
  // A session's rolling summary: the turns that left the history window, folded in after an answer.
  | "summarize"
  // The quality figure: the baseline role's answer to a sampled request, and the judging of the pair.
  | "shadow"
  | "judge"
  // A call the likely route started alongside the categorizer and the label then refuted (see routing/).
  | "speculative";
