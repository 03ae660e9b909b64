import type { UsageStore } from "../store/usage-store.ts";
import { type QualityReport, summarizeQuality } from "./quality-report.ts";

export interface QualitySettings {
  readonly baselineRole: string;
  readonly shadow: {
    readonly baselineRole?: string | undefined;
    readonly judgeRole: string;
    readonly sampleRate: number;
  };
}

// The quality figure of a window, read from the stored verdicts; what /stats and /metrics show.
export async function qualityFigure(
  store: UsageStore,
  since: string,
  monitoring: QualitySettings,
): Promise<QualityReport> {
  return summarizeQuality(await store.shadowSampleCounts(since), {
    baselineRole: monitoring.shadow.baselineRole ?? monitoring.baselineRole,
    judgeRole: monitoring.shadow.judgeRole,
    sampleRate: monitoring.shadow.sampleRate,
  });
}
