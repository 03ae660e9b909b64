import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import type { FakeReply, RecordedRequest } from "../fakes/fake-openrouter.ts";
import { eventually } from "../support/eventually.ts";
import { callKind, lastUserText, models, orchestrationResponder } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

// The chat box in a real browser (Debian's Chromium) against the real server and the fake upstream.
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const skip = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath}: browser tests skipped`;
const webBuilt = existsSync(new URL("../../web/dist/index.html", import.meta.url));

// Screenshots of the main states: kept in docs/ when UPDATE_SCREENSHOTS=1, else taken to a temporary folder.
const screenshotDir = process.env.UPDATE_SCREENSHOTS
  ? new URL("../../docs/screenshots/", import.meta.url).pathname
  : mkdtempSync(join(tmpdir(), "screens-"));
mkdirSync(screenshotDir, { recursive: true });

const tinyPng = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

function streamingResponder(request: RecordedRequest): FakeReply {
  if (callKind(request) === "categorize") return { kind: "text", content: "M", cost: 0.00001 };
  if (/Warm-up/.test(JSON.stringify(request.body.messages))) return { kind: "text", content: "READY" };
  return {
    kind: "text",
    content: `Heat pumps move heat instead of making it.\n\n- They are **efficient**\n- They also cool\n\n\`\`\`js\nconsole.log("cop", 3.5);\n\`\`\`\n\nAnswered by ${request.body.model}.`,
    chunkSize: 6,
    chunkDelayMs: 40,
    cost: 0.000321,
  };
}

describe("chat box in a browser", { skip: skip || (webBuilt ? false : "web/dist is not built") }, () => {
  let browser: Browser;
  let t: TestApp;
  let page: Page;

  before(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    t = await startTestApp();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    if (!process.env.UPDATE_SCREENSHOTS) rmSync(screenshotDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    t.fake?.clear();
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    // Nothing the page loads may leave the service.
    await page.route("**/*", (route) =>
      route.request().url().startsWith(t.url) ? route.continue() : route.abort("blockedbyclient"),
    );
  });
  afterEach(async () => {
    await page?.close();
  });

  const open = async () => {
    await page.goto(t.url);
    await page.getByTestId("mode").waitFor();
  };
  const lastAnswer = () => page.getByTestId("message-assistant").last();

  it("opens a session with warm-ups, shows the mode, and streams an M answer with its badge, model and cost", async () => {
    // Written over ~4 s, so a page slowed by a busy machine is still looked at while the text grows.
    t.fake?.respondWith((request) => {
      const reply = streamingResponder(request);
      return reply.kind === "text" && reply.chunkDelayMs ? { ...reply, chunkDelayMs: 150 } : reply;
    });
    await open();
    assert.equal(await page.getByTestId("mode").textContent(), "live");
    await eventually("the warm-up call", async () =>
      t.fake?.requests.some((r) => /Warm-up/.test(JSON.stringify(r.body.messages))) ? true : undefined,
    );

    const box = page.getByRole("textbox", { name: "message" });
    await box.fill("What is a heat pump?");
    await box.press("Shift+Enter");
    await box.pressSequentially("Briefly.");
    assert.equal(await box.inputValue(), "What is a heat pump?\nBriefly.", "Shift+Enter is a new line");
    await box.press("Enter");

    // The text grows while the model writes: a partial answer is on screen before the whole one.
    const partial = await eventually("the first tokens of the answer", async () => {
      const text = (await lastAnswer().locator(".markdown").textContent()) ?? "";
      return text.length > 0 && !text.includes("Answered by") ? text : undefined;
    });
    assert.ok(partial.length > 0);
    await lastAnswer().getByText(`Answered by ${models.medium}.`).waitFor();
    const meta = lastAnswer().locator(".meta");
    assert.equal(await meta.locator(".badge").first().textContent(), "M");
    assert.equal(await meta.locator(".model").textContent(), models.medium);
    assert.match((await meta.locator(".cost").textContent()) ?? "", /^\$0\.000\d+/);
    // Markdown renders: a list with bold text, and a code block.
    assert.equal(await lastAnswer().locator("strong").first().textContent(), "efficient");
    assert.match((await lastAnswer().locator("pre code").textContent()) ?? "", /console\.log/);
    await page.screenshot({ path: join(screenshotDir, "chat-m.png") });
  });

  it("sends attached images as images, which pre-routing sends to the image model", async () => {
    t.fake?.respondWith(streamingResponder);
    await open();
    await page
      .locator('input[type="file"]')
      .setInputFiles({ name: "dot.png", mimeType: "image/png", buffer: tinyPng });
    await page.getByAltText("attachment 1 to send").waitFor();
    await page.getByRole("textbox", { name: "message" }).fill("What is in this picture?");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await lastAnswer().getByText(`Answered by ${models.gemini}.`).waitFor();
    const toGemini = t.fake?.requests.find((r) => r.body.model === models.gemini);
    assert.match(JSON.stringify(toGemini?.body.messages), /data:image\/png;base64,/);
  });

  it("shows an H request's acknowledgement at once, its tasks turning done, then the final answer", async () => {
    t.fake?.respondWith(
      orchestrationResponder({
        finalAnswer: "## The campaign\n\nEverything you asked for, put together.",
        override: (request, kind) =>
          kind === "task"
            ? {
                kind: "text",
                content: `output for: ${lastUserText(request).slice(0, 40)}`,
                // Long enough that a page slowed by a busy machine still sees the tasks running.
                delayMs: 2_000,
                cost: 0.001,
              }
            : undefined,
      }),
    );
    await open();
    await page
      .getByRole("textbox", { name: "message" })
      .fill("Plan a complete campaign with copy and visuals");
    await page.keyboard.press("Enter");
    const ack = page.getByTestId("message-assistant").first();
    await ack.getByText("On it.").waitFor();
    assert.equal(await ack.locator(".badge").first().textContent(), "H");
    const workflow = page.getByRole("region", { name: "workflow progress" });
    await workflow.locator('.task[data-status="running"]').first().waitFor();
    await page.screenshot({ path: join(screenshotDir, "chat-h-running.png") });
    await page.locator('.workflow[data-status="completed"]').waitFor();
    assert.equal(await workflow.locator(".task").count(), 3);
    assert.equal(await workflow.locator('.task[data-status="completed"]').count(), 3);
    await page.getByRole("heading", { name: "The campaign" }).waitFor();
    await page.screenshot({ path: join(screenshotDir, "chat-h-done.png") });
  });

  it("runs a template from its form and shows its progress and outputs", async () => {
    t.fake?.respondWith(orchestrationResponder());
    await open();
    await page.getByRole("button", { name: "workflows" }).click();
    await page.getByLabel("template").selectOption("code_project");
    await page.locator('input[name="project"]').fill("a URL shortener");
    assert.equal(
      await page.locator('input[name="language"]').inputValue(),
      "TypeScript",
      "defaults are filled in",
    );
    await page.getByRole("button", { name: "Run code_project" }).click();
    const workflow = page.getByRole("region", { name: "workflow progress" });
    await page.locator('.workflow[data-status="completed"]').waitFor();
    assert.equal(await workflow.locator('.task[data-status="completed"]').count(), 5);
    for (const name of ["architecture", "implementation", "tests", "documentation", "code_review"]) {
      await page.locator(".outputs summary", { hasText: name }).waitFor();
    }
    const sent =
      t.fake?.requests
        .filter((r) => callKind(r) === "task")
        .map(lastUserText)
        .join("\n") ?? "";
    assert.match(sent, /a URL shortener/);
    await page.screenshot({ path: join(screenshotDir, "template.png"), fullPage: true });
  });

  it("shows spend by model and the savings figure", async () => {
    t.fake?.respondWith(streamingResponder);
    await open();
    await page.getByRole("textbox", { name: "message" }).fill("A quick question");
    await page.keyboard.press("Enter");
    await lastAnswer().locator(".meta .cost").waitFor();
    await page.getByRole("button", { name: "stats" }).click();
    await page.getByRole("cell", { name: models.medium }).waitFor();
    // One request is too few for a savings figure: the page says so (the charts' own test has enough).
    // (n counts every answered request of the window, those of the tests before this one included).
    assert.match(
      (await page.getByTestId("saved-percent").textContent()) ?? "",
      /^too few requests to tell \(n = [1-9]\d?\)$/,
    );
    await page.screenshot({ path: join(screenshotDir, "stats.png") });
  });

  it("shows the judged quality next to the savings, with its interval, per category and model", async () => {
    // Its own server: every M answer is sampled, the baseline answers and the judge finds the routed answer
    // as good (a tie), and the coin shows the routed answer first.
    const judged = await startTestApp({
      random: () => 0.1,
      config: { monitoring: { shadow: { sampleRate: 1 } } },
    });
    judged.fake?.respondWith((request) =>
      /impartial judge/.test(JSON.stringify(request.body.messages))
        ? { kind: "text", content: '{"winner": "tie", "reason": "Both answer it."}' }
        : streamingResponder(request),
    );
    try {
      await page.route("**/*", (route) =>
        route.request().url().startsWith(judged.url) ? route.continue() : route.abort("blockedbyclient"),
      );
      await page.goto(judged.url);
      await page.getByTestId("mode").waitFor();
      for (const question of ["What is a heat pump?", "And a cold pump?"]) {
        await page.getByRole("textbox", { name: "message" }).fill(question);
        await page.keyboard.press("Enter");
        await page
          .getByText(`Answered by ${models.medium}.`)
          .nth(question.startsWith("And") ? 1 : 0)
          .waitFor();
      }
      await judged.app.shadow.settled();
      await page.getByRole("button", { name: "stats" }).click();
      // Two of two judged as good: 100%, with the Wilson interval [n/(n + z²), 1] = [2/5.84, 1] = [34%, 100%].
      // Two judged are too few for the headline figure, which says so; the detail keeps the count and interval.
      assert.equal(await page.getByTestId("quality-share").textContent(), "too few judged to tell (n = 2)");
      assert.match(
        (await page
          .getByText(/95% CI/)
          .first()
          .textContent()) ?? "",
        /2 of 2 judged, 95% CI 34–100%/,
      );
      const quality = page.getByRole("table", { name: "quality" });
      const row = quality.getByRole("row", { name: /category M/ });
      assert.deepEqual(await row.getByRole("cell").allTextContents(), [
        "category M",
        "2",
        "2",
        "100%",
        "34–100%",
      ]);
      await quality.getByRole("cell", { name: models.medium }).waitFor();
      await page.screenshot({ path: join(screenshotDir, "stats-quality.png") });
    } finally {
      await judged.close();
    }
  });

  it("marks an answer the thinking model gave after the medium model's came back empty", async () => {
    t.fake?.respondWith((request) =>
      request.body.model === models.medium ? { kind: "text", content: "" } : streamingResponder(request),
    );
    await open();
    await page.getByRole("textbox", { name: "message" }).fill("What is a heat pump?");
    await page.keyboard.press("Enter");
    await lastAnswer().getByText(`Answered by ${models.thinking}.`).waitFor();
    const meta = lastAnswer().locator(".meta");
    assert.equal(await meta.locator(".model").textContent(), models.thinking);
    const badge = meta.locator(".badge.escalated");
    assert.equal(await badge.textContent(), "escalated");
    assert.match((await badge.getAttribute("title")) ?? "", new RegExp(`${models.medium}.*\\(empty\\)`));
  });

  it("says readably when the upstream fails", async () => {
    t.fake?.respondWith(() => ({ kind: "error", status: 401, message: "No auth credentials found" }));
    await open();
    await page.getByRole("textbox", { name: "message" }).fill("Hello?");
    await page.keyboard.press("Enter");
    const alert = lastAnswer().getByRole("alert");
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? "", /answered 401: No auth credentials found/);
    await page.screenshot({ path: join(screenshotDir, "error.png") });
  });

  it("fits a phone-sized screen, in dark mode", async () => {
    t.fake?.respondWith(streamingResponder);
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    try {
      await phone.goto(t.url);
      await phone.getByRole("textbox", { name: "message" }).fill("What is a heat pump?");
      await phone.keyboard.press("Enter");
      await phone.getByText(`Answered by ${models.medium}.`).waitFor();
      const overflow = await phone.evaluate("document.documentElement.scrollWidth - window.innerWidth");
      assert.equal(overflow, 0, "nothing sticks out sideways");
      const background = await phone.evaluate("getComputedStyle(document.body).backgroundColor");
      assert.equal(background, "rgb(21, 22, 26)", "the dark palette is used");
      await phone.screenshot({ path: join(screenshotDir, "phone-dark.png") });
    } finally {
      await phone.close();
    }
  });
});
