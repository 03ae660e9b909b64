import { useEffect, useState } from "preact/hooks";
import { ApiError, apiKey, getJson, postJson, setApiKey } from "./api.ts";
import { Chat } from "./chat.tsx";
import { Stats } from "./stats.tsx";
import { Templates } from "./templates.tsx";
import type { Health } from "./types.ts";

type Tab = "chat" | "workflows" | "stats";

export function App() {
  const [health, setHealth] = useState<Health | undefined>();
  const [sessionId, setSessionId] = useState<string | undefined>();
  const [tab, setTab] = useState<Tab>("chat");
  const [needsKey, setNeedsKey] = useState(false);
  const [problem, setProblem] = useState<string | undefined>();

  // Opening the page opens a session, which also warms up the small models.
  const open = async () => {
    try {
      setHealth(await getJson<Health>("/health"));
      const session = await postJson<{ session_id: string }>("/sessions", {});
      setSessionId(session.session_id);
      setNeedsKey(false);
      setProblem(undefined);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setNeedsKey(true);
      else setProblem((error as Error).message);
    }
  };
  useEffect(() => {
    void open();
  }, []);

  return (
    <div class="app">
      <header class="top">
        <h1>Master AI Orchestrator</h1>
        {health && (
          <span class={`mode ${health.mode}`} data-testid="mode" title={health.notice ?? ""}>
            {health.mode === "live" ? "live" : "offline mode"}
          </span>
        )}
        <nav>
          {(["chat", "workflows", "stats"] as const).map((name) => (
            <button
              type="button"
              key={name}
              class={tab === name ? "active" : ""}
              aria-pressed={tab === name}
              onClick={() => setTab(name)}
            >
              {name}
            </button>
          ))}
        </nav>
      </header>
      {health?.mode === "offline" && (
        <p class="banner">
          Offline mode: no upstream key is set, so answers come from the built-in simulator and say so.
        </p>
      )}
      {needsKey && (
        <form
          class="banner key"
          onSubmit={(event) => {
            event.preventDefault();
            const input = event.currentTarget.elements.namedItem("key") as HTMLInputElement;
            setApiKey(input.value.trim());
            void open();
          }}
        >
          <label>
            This service needs an API key: <input name="key" type="password" defaultValue={apiKey()} />
          </label>
          <button type="submit">Use key</button>
        </form>
      )}
      {problem && <p class="error banner">{problem}</p>}
      <main>
        <div hidden={tab !== "chat"} class="tab">
          <Chat sessionId={sessionId} onSession={setSessionId} />
        </div>
        {tab === "workflows" && <Templates />}
        {tab === "stats" && <Stats />}
      </main>
    </div>
  );
}
