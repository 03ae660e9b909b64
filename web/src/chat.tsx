import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, streamEvents } from "./api.ts";
import { formatUsd, renderMarkdown } from "./format.ts";
import { RequestDetails } from "./request-details.tsx";
import type { ChatReply, WorkflowRecord } from "./types.ts";
import { WorkflowOutputs, WorkflowProgress } from "./workflow-progress.tsx";

interface Meta {
  readonly category: string | null;
  readonly model: string;
  readonly cost?: number;
  readonly cached?: boolean;
  readonly escalated?: { readonly from_model: string; readonly reason: string } | undefined;
  // The x-request-id of the answer: GET /requests/{id} explains it.
  readonly requestId?: string | undefined;
}

interface Message {
  readonly id: number;
  readonly role: "user" | "assistant";
  readonly text: string;
  readonly images?: readonly string[];
  readonly meta?: Meta;
  readonly workflowId?: string;
  readonly workflow?: WorkflowRecord;
  readonly error?: string;
  readonly pending?: boolean;
}

interface Chunk {
  readonly choices?: ReadonlyArray<{ readonly delta?: { readonly content?: string } }>;
  readonly orchestrator?: Partial<ChatReply> & { readonly category?: string | null; readonly model?: string };
  readonly error?: { readonly message: string };
}

const maxImages = 16;
let nextId = 1;

// The conversation: answers stream in as they are written, each with its category, model and cost; an H
// request shows its acknowledgement at once, then its workflow live, then the finished answer.
export function Chat(props: { sessionId: string | undefined; onSession: (id: string) => void }) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [draft, setDraft] = useState("");
  const [images, setImages] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | undefined>();
  const endRef = useRef<HTMLDivElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);

  useEffect(() => endRef.current?.scrollIntoView({ block: "end" }), [messages]);

  const update = (id: number, change: (message: Message) => Message) =>
    setMessages((all) => all.map((m) => (m.id === id ? change(m) : m)));

  const addImages = async (files: Iterable<File>) => {
    const wanted = [...files].filter((f) => f.type.startsWith("image/"));
    const urls = await Promise.all(wanted.map(readAsDataUrl));
    setImages((current) => {
      const all = [...current, ...urls];
      if (all.length > maxImages) setNotice(`At most ${maxImages} images per message.`);
      return all.slice(0, maxImages);
    });
  };

  const send = async () => {
    const message = draft.trim();
    if (!message || busy) return;
    const attached = images;
    const answerId = nextId + 1;
    setMessages((all) => [
      ...all,
      { id: nextId, role: "user", text: message, images: attached },
      { id: answerId, role: "assistant", text: "", pending: true },
    ]);
    nextId += 2;
    setDraft("");
    setImages([]);
    setNotice(undefined);
    setBusy(true);
    try {
      const body = {
        message,
        stream: true,
        ...(props.sessionId ? { session_id: props.sessionId } : {}),
        ...(attached.length > 0 ? { images: attached } : {}),
      };
      let requestId: string | undefined;
      const onHeaders = (headers: Headers) => {
        requestId = headers.get("x-request-id") ?? undefined;
      };
      for await (const event of streamEvents("/chat", { method: "POST", body, onHeaders })) {
        if (event.data === "[DONE]") break;
        const chunk = JSON.parse(event.data) as Chunk;
        if (chunk.error) throw new ApiError(502, "stream_error", chunk.error.message);
        const text = chunk.choices?.[0]?.delta?.content;
        const info = chunk.orchestrator;
        update(answerId, (m) => ({
          ...m,
          text: text ? m.text + text : m.text,
          ...(info?.model ? { meta: { ...m.meta, category: info.category ?? null, model: info.model } } : {}),
        }));
        if (info?.usage && info.session_id) {
          const reply = info as ChatReply;
          props.onSession(reply.session_id);
          update(answerId, (m) => ({
            ...m,
            pending: false,
            meta: {
              category: reply.category,
              model: reply.model,
              cost: reply.usage.cost_usd,
              cached: reply.cached,
              escalated: reply.routing?.escalated,
              requestId,
            },
            ...(reply.workflow_id ? { workflowId: reply.workflow_id } : {}),
          }));
        }
      }
      update(answerId, (m) => ({ ...m, pending: false }));
    } catch (error) {
      update(answerId, (m) => ({ ...m, pending: false, error: (error as Error).message }));
    } finally {
      setBusy(false);
    }
  };

  const finishWorkflow = (answerId: number, record: WorkflowRecord) => {
    setMessages((all) => {
      if (all.some((m) => m.workflow?.workflow_id === record.workflow_id)) return all;
      const final: Message = {
        id: nextId++,
        role: "assistant",
        text: record.result ?? "",
        workflow: record,
        ...(record.model
          ? { meta: { category: "H", model: record.model, cost: record.usage.cost_usd } }
          : {}),
        ...(record.status !== "completed" && !record.result
          ? { error: `The workflow ${record.status}: ${record.error?.message ?? ""}` }
          : {}),
      };
      const at = all.findIndex((m) => m.id === answerId);
      return [...all.slice(0, at + 1), final, ...all.slice(at + 1)];
    });
  };

  return (
    <div class="chat">
      <div class="messages" aria-live="polite">
        {messages.length === 0 && (
          <p class="muted empty">
            Ask anything. Simple questions go to a fast model, hard ones to a thinking model, and projects
            with several deliverables are planned and run as a workflow.
          </p>
        )}
        {messages.map((m) => (
          <article key={m.id} class={`message ${m.role}`} data-testid={`message-${m.role}`}>
            {m.images && m.images.length > 0 && (
              <div class="thumbs">
                {m.images.map((src, i) => (
                  <img key={i} src={src} alt={`attachment ${i + 1}`} />
                ))}
              </div>
            )}
            {m.role === "user" ? (
              <p class="user-text">{m.text}</p>
            ) : (
              <div class="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(m.text) }} />
            )}
            {m.pending && !m.text && <p class="muted typing">thinking…</p>}
            {m.error && (
              <p class="error" role="alert">
                {m.error}
              </p>
            )}
            {m.meta && (
              <footer class="meta">
                {m.meta.category && (
                  <span class={`badge category-${m.meta.category}`}>{m.meta.category}</span>
                )}
                <span class="model">{m.meta.model}</span>
                {m.meta.cost !== undefined && <span class="cost">{formatUsd(m.meta.cost)}</span>}
                {m.meta.cached && <span class="badge cached">cached</span>}
                {m.meta.escalated && (
                  <span
                    class="badge escalated"
                    title={`${m.meta.escalated.from_model} gave an unusable answer (${m.meta.escalated.reason}); a stronger model answered`}
                  >
                    escalated
                  </span>
                )}
                {m.meta.requestId && <RequestDetails requestId={m.meta.requestId} />}
              </footer>
            )}
            {m.workflowId && (
              <WorkflowProgress workflowId={m.workflowId} onDone={(record) => finishWorkflow(m.id, record)} />
            )}
            {m.workflow && <WorkflowOutputs record={m.workflow} render={renderMarkdown} />}
          </article>
        ))}
        <div ref={endRef} />
      </div>
      <form
        class="composer"
        onSubmit={(event) => {
          event.preventDefault();
          void send();
        }}
      >
        {images.length > 0 && (
          <div class="thumbs pending">
            {images.map((src, i) => (
              <button
                type="button"
                key={i}
                title="remove this image"
                onClick={() => setImages((all) => all.filter((_, j) => j !== i))}
              >
                <img src={src} alt={`attachment ${i + 1} to send`} />
              </button>
            ))}
          </div>
        )}
        {notice && <p class="muted">{notice}</p>}
        <div class="composer-row">
          <button type="button" class="attach" title="attach images" onClick={() => fileRef.current?.click()}>
            +
          </button>
          <input
            ref={fileRef}
            type="file"
            accept="image/*"
            multiple
            hidden
            onChange={(event) => {
              const input = event.currentTarget;
              if (input.files) void addImages(input.files);
              input.value = "";
            }}
          />
          <textarea
            aria-label="message"
            placeholder="Message (Enter sends, Shift+Enter for a new line; paste images)"
            rows={2}
            value={draft}
            onInput={(event) => setDraft(event.currentTarget.value)}
            onKeyDown={(event) => {
              if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
                event.preventDefault();
                void send();
              }
            }}
            onPaste={(event) => {
              const files = [...(event.clipboardData?.files ?? [])].filter((f) =>
                f.type.startsWith("image/"),
              );
              if (files.length > 0) {
                event.preventDefault();
                void addImages(files);
              }
            }}
          />
          <button type="submit" class="send" disabled={busy || draft.trim() === ""}>
            Send
          </button>
        </div>
      </form>
    </div>
  );
}

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}
