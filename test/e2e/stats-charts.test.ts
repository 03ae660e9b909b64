import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import type { FakeReply, RecordedRequest } from "../fakes/fake-openrouter.ts";
import { callKind, lastUserText, models, systemText } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";
import { movableClock } from "../support/virtual-time.ts";

// The stats page's charts in a real browser (Debian's Chromium), drawn from traffic sent through the real
// server to the fake upstream over several hours of a movable clock.
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const skip = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath}: browser tests skipped`;
const webBuilt = existsSync(new URL("../../web/dist/index.html", import.meta.url));

// Kept in docs/screenshots when UPDATE_SCREENSHOTS=1 (the README shows them), else taken to a temporary folder.
const screenshotDir = process.env.UPDATE_SCREENSHOTS
  ? new URL("../../docs/screenshots/", import.meta.url).pathname
  : mkdtempSync(join(tmpdir(), "stats-screens-"));
mkdirSync(screenshotDir, { recursive: true });

const hour = 3_600_000;
const charts = ["spend", "categories", "routes", "savings", "quality", "events"] as const;

// Calls priced by the service from their tokens (no upstream cost), so the savings are the routing's. The
// judge finds most routed answers as good, one in five worse; "EMPTY" gets an empty medium answer, which the
// thinking model replaces (an escalation).
function trafficResponder(request: RecordedRequest): FakeReply {
  const text = lastUserText(request);
  if (callKind(request) === "categorize")
    return { kind: "text", content: text.includes("LOW") ? "L" : "M", cost: null, promptTokens: 120 };
  if (/impartial judge/.test(systemText(request))) {
    const worse = /#\d*[05]\b/.test(JSON.stringify(request.body.messages));
    return {
      kind: "text",
      content: worse ? '{"winner": "B", "reason": "B is fuller."}' : '{"winner": "tie", "reason": "Both."}',
      cost: null,
    };
  }
  if (request.body.model === models.medium && text.includes("EMPTY")) return { kind: "text", content: "" };
  return {
    kind: "text",
    content: `answer from ${request.body.model}`,
    cost: null,
    promptTokens: 900,
    completionTokens: 500,
  };
}

describe("stats charts in a browser", { skip: skip || (webBuilt ? false : "web/dist is not built") }, () => {
  let browser: Browser;
  let t: TestApp;
  const time = movableClock();
  let sent = 0;

  const chat = async (message: string) => {
    sent += 1;
    const reply = await t.post("/chat", { message: `${message} #${sent}` });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
  };

  before(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    });
    time.advance(-6 * hour);
    t = await startTestApp({
      clock: time.clock,
      random: () => 0.1,
      config: { monitoring: { shadow: { sampleRate: 1 } } },
    });
    t.fake?.respondWith(trafficResponder);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
    if (!process.env.UPDATE_SCREENSHOTS) rmSync(screenshotDir, { recursive: true, force: true });
  });

  const openStats = async (options: { width: number; height: number; dark?: boolean }): Promise<Page> => {
    const page = await browser.newPage({
      viewport: { width: options.width, height: options.height },
      colorScheme: options.dark ? "dark" : "light",
    });
    // Nothing the page loads may leave the service.
    await page.route("**/*", (route) =>
      route.request().url().startsWith(t.url) ? route.continue() : route.abort("blockedbyclient"),
    );
    await page.goto(t.url);
    await page.getByTestId("mode").waitFor();
    await page.getByRole("button", { name: "stats" }).click();
    await page.getByTestId("chart-spend").waitFor();
    return page;
  };

  it("says there are too few requests to tell, instead of a bare percentage", async () => {
    await chat("MED what is a heat pump?");
    await chat("LOW prove there are infinitely many primes");
    await t.app.shadow.settled();
    const page = await openStats({ width: 1100, height: 900 });
    try {
      assert.equal(await page.getByTestId("saved-percent").textContent(), "too few requests to tell (n = 2)");
      assert.equal(await page.getByTestId("quality-share").textContent(), "too few judged to tell (n = 1)");
      assert.match(
        (await page.getByTestId("chart-savings").locator("figcaption").textContent()) ?? "",
        /too few requests to tell \(n = 2\)/,
      );
    } finally {
      await page.close();
    }
  });

  it("draws spend, requests, savings, quality and events from hours of traffic", async () => {
    // Six hours of L and M questions, an escalation now and then, and direct /v1 calls with a cached repeat.
    for (const perHour of [8, 12, 6, 10, 9, 7]) {
      for (let i = 0; i < perHour; i++)
        await chat(i % 4 === 1 ? "LOW derive it" : i === 3 ? "MED EMPTY question" : "MED a question");
      const direct = {
        model: "medium_ai",
        messages: [{ role: "user", content: `2+${perHour}?` }],
        temperature: 0,
      };
      await t.post("/v1/chat/completions", direct);
      await t.post("/v1/chat/completions", direct);
      await t.app.shadow.settled();
      time.advance(hour);
    }
    const page = await openStats({ width: 1100, height: 1500 });
    try {
      for (const name of charts) {
        const chart = page.getByTestId(`chart-${name}`);
        await chart.locator("svg").waitFor();
        assert.ok(((await chart.locator("svg").boundingBox())?.width ?? 0) > 300, `${name} is drawn wide`);
      }
      // Two models' spend stacked, L and M, the category and explicit rules, and the three kinds of event.
      const spendBars = page.getByTestId("chart-spend").locator("rect.bar");
      assert.ok((await spendBars.count()) >= 12, "a bar per model and busy hour");
      const legend = (name: string) =>
        page.getByTestId(`chart-${name}`).locator(".legend li").allTextContents();
      assert.ok((await legend("spend")).includes(models.medium));
      assert.ok((await legend("spend")).includes("quality sampling"), "shadow calls apart from the models");
      assert.deepEqual((await legend("categories")).sort(), ["L", "M"]);
      assert.deepEqual((await legend("routes")).sort(), ["category", "explicit"]);
      assert.deepEqual(await legend("events"), ["cache hits", "escalations", "refuted speculative calls"]);
      assert.equal(await page.getByTestId("chart-savings").locator(".line path").count(), 2);
      // The quality share's line with its interval band, and a real percentage now that enough were judged.
      assert.ok((await page.getByTestId("chart-quality").locator("path.band").count()) >= 1);
      assert.match((await page.getByTestId("saved-percent").textContent()) ?? "", /^-?\d+(\.\d+)?%$/);
      assert.match((await page.getByTestId("quality-share").textContent()) ?? "", /^\d+%$/);
      const title = await page.getByTestId("chart-spend").locator("rect.bar title").first().textContent();
      assert.match(title ?? "", /^\d\d:00 · .+: \$/);
      await page.screenshot({ path: join(screenshotDir, "stats-light.png"), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it("is readable in dark mode", async () => {
    const page = await openStats({ width: 1100, height: 1500, dark: true });
    try {
      await page.getByTestId("chart-quality").locator("path.band").first().waitFor();
      const style = (selector: string, property: string) =>
        page.evaluate(
          `getComputedStyle(document.querySelector('[data-testid="chart-spend"] ${selector}')).${property}`,
        );
      assert.equal(await style("", "backgroundColor"), "rgb(30, 32, 37)", "the dark surface");
      assert.equal(
        await style(".axes text", "fill"),
        "rgb(160, 163, 171)",
        "axis labels in the dark palette's muted text",
      );
      const bar = await style("rect.bar", "fill");
      assert.equal(bar, "rgb(125, 162, 255)", "the dark palette's first series colour");
      await page.screenshot({ path: join(screenshotDir, "stats-dark.png"), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it("fits a phone: one chart per row, at the phone's width, nothing sticking out", async () => {
    const page = await openStats({ width: 390, height: 2600 });
    try {
      await page.getByTestId("chart-events").locator("svg").waitFor();
      const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
      assert.equal(overflow, 0, "nothing sticks out sideways");
      for (const name of charts) {
        const box = await page.getByTestId(`chart-${name}`).locator("svg").boundingBox();
        assert.ok(box && box.width <= 390 && box.width >= 250, `${name}: ${box?.width}px wide`);
      }
      // Labels keep their size: the SVG is drawn at the phone's width, not scaled down from a desktop's.
      const fontSize = await page.evaluate(
        `document.querySelector('[data-testid="chart-spend"] .axes text').getBoundingClientRect().height`,
      );
      assert.ok(Number(fontSize) >= 10, `axis labels ${fontSize}px tall`);
      await page.screenshot({ path: join(screenshotDir, "stats-phone.png"), fullPage: true });
    } finally {
      await page.close();
    }
  });
});
