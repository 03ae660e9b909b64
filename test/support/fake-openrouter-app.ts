import { after, before, beforeEach } from "node:test";
import OpenAI from "openai";
import { type FakeOpenRouter, type FakeResponder, startFakeOpenRouter } from "../fakes/fake-openrouter.ts";
import { startTestApp, type TestApp } from "./test-app.ts";

export interface FakeOpenRouterApp {
  readonly fake: FakeOpenRouter;
  readonly t: TestApp;
  // The official openai SDK on the app's /v1, with no retries of its own.
  readonly client: OpenAI;
}

// A describe block's app in front of its own fake OpenRouter: both start before the block's tests and
// close after them. Before each test the fake is cleared if asked (`clearEachTest`, or given `respond`)
// and then answers with `respond`. Read the fields inside tests, once the block has started.
export function useFakeOpenRouterApp(
  options: { config?: Record<string, unknown>; clearEachTest?: boolean; respond?: FakeResponder } = {},
): FakeOpenRouterApp {
  let started: FakeOpenRouterApp | undefined;
  before(async () => {
    const fake = await startFakeOpenRouter();
    const t = await startTestApp({ fake, ...(options.config ? { config: options.config } : {}) });
    started = {
      fake,
      t,
      client: new OpenAI({ apiKey: "unused-locally", baseURL: `${t.url}/v1`, maxRetries: 0 }),
    };
  });
  after(async () => {
    await started?.t.close();
    await started?.fake.close();
  });
  if (options.clearEachTest || options.respond) {
    const { respond } = options;
    beforeEach(() => {
      app.fake.clear();
      if (respond) app.fake.respondWith(respond);
    });
  }
  const app: FakeOpenRouterApp = {
    get fake() {
      return startedApp().fake;
    },
    get t() {
      return startedApp().t;
    },
    get client() {
      return startedApp().client;
    },
  };
  const startedApp = () => {
    if (!started) throw new Error("the fake OpenRouter app is read before its describe block started");
    return started;
  };
  return app;
}
