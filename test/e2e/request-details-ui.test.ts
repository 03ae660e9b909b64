import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium } from "playwright-core";
import { models, routingResponder } from "../support/responders.ts";
import { startTestApp, type TestApp } from "../support/test-app.ts";

// An answer in the chat box opens its record (GET /requests/{id}): the route and every upstream call.
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const skip = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath}: browser tests skipped`;
const webBuilt = existsSync(new URL("../../web/dist/index.html", import.meta.url));

describe("an answer's details in the chat box", {
  skip: skip || (webBuilt ? false : "web/dist is not built"),
}, () => {
  let browser: Browser;
  let t: TestApp;

  before(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    });
    t = await startTestApp();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it("lists the categorizer and the answering model's calls with the route", async () => {
    t.fake?.respondWith(routingResponder("M"));
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    try {
      await page.route("**/*", (route) =>
        route.request().url().startsWith(t.url) ? route.continue() : route.abort("blockedbyclient"),
      );
      await page.goto(t.url);
      await page.getByTestId("mode").waitFor();
      await page.getByRole("textbox", { name: "message" }).fill("What is a heat pump?");
      await page.keyboard.press("Enter");
      const answer = page.getByTestId("message-assistant").last();
      await answer.getByText(`answer from ${models.medium}`).waitFor();
      await answer.getByRole("button", { name: "details" }).click();
      const details = answer.getByTestId("request-details");
      await details.getByTestId("request-call").nth(1).waitFor();
      const rows = await details.getByTestId("request-call").allTextContents();
      assert.equal(rows.length, 2);
      assert.match(rows[0] ?? "", new RegExp(`^categorize.*${models.categorizer}`));
      assert.match(rows[1] ?? "", new RegExp(`^answer.*${models.medium}`));
      assert.match((await details.textContent()) ?? "", /route: category · category M/);
      assert.match((await details.locator(".trace").textContent()) ?? "", /M → medium_ai/);
    } finally {
      await page.close();
    }
  });
});
