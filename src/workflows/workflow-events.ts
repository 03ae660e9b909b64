import type { Usage } from "../core/usage.ts";
import type { RunError } from "../store/store.ts";

export type WorkflowEvent =
  | { readonly type: "workflow_started"; readonly workflowId: string; readonly at: string }
  | {
      readonly type: "task_started";
      readonly workflowId: string;
      readonly stage: number;
      readonly index: number;
      readonly role: string;
      readonly model: string;
      readonly at: string;
    }
  | {
      readonly type: "task_completed";
      readonly workflowId: string;
      readonly stage: number;
      readonly index: number;
      readonly outputVariable: string;
      readonly usage: Usage;
      readonly at: string;
    }
  | {
      readonly type: "task_retrying";
      readonly workflowId: string;
      readonly stage: number;
      readonly index: number;
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: RunError;
      readonly at: string;
    }
  | {
      readonly type: "task_failed";
      readonly workflowId: string;
      readonly stage: number;
      readonly index: number;
      readonly error: RunError;
      readonly at: string;
    }
  | { readonly type: "plan_ready"; readonly workflowId: string; readonly stages: number; readonly at: string }
  | {
      readonly type: "workflow_finished";
      readonly workflowId: string;
      readonly status: "completed" | "failed" | "cancelled" | "interrupted";
      readonly at: string;
    };

type Listener = (event: WorkflowEvent) => void;

// Carries events between processes (Redis pub/sub when workflows run on workers); it delivers every
// published event back to each process, this one included.
export interface EventTransport {
  publish(event: WorkflowEvent): void;
  onEvent(deliver: (event: WorkflowEvent) => void): void;
}

// Publish/subscribe of workflow progress, keyed by workflow id; the event stream endpoint listens. Without a
// transport, events stay in this process.
export class WorkflowEvents {
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #transport: EventTransport | undefined;

  constructor(transport?: EventTransport) {
    this.#transport = transport;
    transport?.onEvent((event) => this.#deliver(event));
  }

  subscribe(workflowId: string, listener: Listener): () => void {
    let set = this.#listeners.get(workflowId);
    if (!set) {
      set = new Set();
      this.#listeners.set(workflowId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(workflowId);
    };
  }

  emit(event: WorkflowEvent): void {
    if (this.#transport) this.#transport.publish(event);
    else this.#deliver(event);
  }

  #deliver(event: WorkflowEvent): void {
    for (const listener of this.#listeners.get(event.workflowId) ?? []) listener(event);
  }
}
