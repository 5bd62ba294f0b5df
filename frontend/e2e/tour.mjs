#!/usr/bin/env node
// Screenshots of every page as the demo client, at desktop and phone (375 px) width, for a
// visual review. Not a test: `npm run e2e` is the test. At phone width it does check one thing:
// the chat button covers no text or control on any page (exits non-zero when it does).
//
//   BASE_URL, CLIENT_EMAIL, CLIENT_PASSWORD (default: Maya from seed_demo), SCREENSHOT_DIR

import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

import { chatButtonOverlaps } from "./checks.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE_URL = (process.env.BASE_URL ?? "http://127.0.0.1:8000").replace(/\/$/, "");
const EMAIL = process.env.CLIENT_EMAIL ?? "maya@meridian.example";
const PASSWORD = process.env.CLIENT_PASSWORD ?? "meridian-demo-2026";
const OUT = path.join(process.env.SCREENSHOT_DIR ?? path.resolve(here, "..", "..", "screenshots"), "tour");

const SIZES = {
  desktop: { width: 1280, height: 900 },
  phone: { width: 375, height: 812 },
};

const overlaps = [];

async function shoot(page, name) {
  await page.waitForLoadState("networkidle").catch(() => {});
  await page.waitForTimeout(300);
  if (name.startsWith("phone-") && name !== "phone-login") {
    for (const problem of await chatButtonOverlaps(page)) overlaps.push(`${name}: ${problem}`);
  }
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  console.log(`  ${name}.png`);
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    for (const [size, viewport] of Object.entries(SIZES)) {
      const context = await browser.newContext({ baseURL: BASE_URL, viewport });
      context.setDefaultTimeout(20_000);
      const page = await context.newPage();
      page.on("response", (r) => {
        if (r.url().includes("/api/") && r.status() >= 400) console.log(`  ${r.status()} ${r.url()}`);
      });
      await page.goto("/login");
      await shoot(page, `${size}-login`);
      await page.getByLabel("Email").fill(EMAIL);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByTestId("total-value").waitFor();
      await page.locator(".recharts-area").first().waitFor();
      await shoot(page, `${size}-dashboard`);
      await page.goto("/goals");
      await page.locator(".goal-card").first().waitFor();
      await shoot(page, `${size}-goals`);
      await page.locator(".goal-card a").first().click();
      await page.getByTestId("probability").waitFor();
      await shoot(page, `${size}-goal-detail`);
      await page.goto("/money");
      await page.getByTestId("account-value").waitFor();
      await shoot(page, `${size}-money`);
      await page.goto("/tax");
      await page.getByRole("heading", { name: "Documents" }).waitFor();
      await shoot(page, `${size}-tax`);
      await page.goto("/settings");
      await page.locator(".risk-level-number").waitFor();
      await shoot(page, `${size}-settings`);
      await page.goto("/settings/questionnaire");
      await page.getByRole("progressbar").waitFor();
      await shoot(page, `${size}-questionnaire`);
      await page.goto("/dashboard");
      await page.getByRole("button", { name: "Ask Meridian" }).click();
      await page.getByLabel("Your message").fill("How are my goals doing?");
      await page.getByLabel("Your message").press("Enter");
      await page.locator(".chat-msg-assistant, .chat-panel .alert-error").first().waitFor();
      await page.screenshot({ path: path.join(OUT, `${size}-chat.png`) });
      console.log(`  ${size}-chat.png`);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  if (overlaps.length) {
    throw new Error(`the chat button covers content at 375 px:\n  ${overlaps.join("\n  ")}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
