#!/usr/bin/env node
// End-to-end run of the browser client against a live server, driving Debian's Chromium through
// playwright-core (no browser downloads).
//
//   BASE_URL          the server (default http://127.0.0.1:8000)
//   ADVISOR_EMAIL     a staff login that approves a pending rebalance in the admin
//   ADVISOR_PASSWORD  (defaults: the seed_demo advisor)
//   SCREENSHOT_DIR    where each step's screenshot goes (default <repo>/screenshots)
//   CHROMIUM          the browser binary (default /usr/bin/chromium)
//   VIEWPORT          e.g. 375x812 to run the client's journey at phone width (default 1280x900)
//   HEADED=1          watch it run
//
// The server needs seed_demo data (market data, an advisor, pending rebalance proposals).
// Exits non-zero with the failing step's name and a screenshot of it.

import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE_URL = (process.env.BASE_URL ?? "http://127.0.0.1:8000").replace(/\/$/, "");
const ADVISOR_EMAIL = process.env.ADVISOR_EMAIL ?? "advisor@meridian.example";
const ADVISOR_PASSWORD = process.env.ADVISOR_PASSWORD ?? "meridian-demo-2026";
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? path.resolve(here, "..", "..", "screenshots");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
// Generous: a shared 2-core CI box can take seconds for the first portfolio summary.
const STEP_TIMEOUT_MS = 30_000;
const [vw, vh] = (process.env.VIEWPORT ?? "1280x900").split("x").map(Number);
const VIEWPORT = { width: vw || 1280, height: vh || 900 };

const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
const client = {
  first: "Jordan",
  last: "Rivera",
  email: `e2e-${stamp}-${Math.random().toString(36).slice(2, 7)}@meridian.example`,
  password: "correct-horse-battery-42",
};

class StepFailure extends Error {}

function fail(message) {
  throw new StepFailure(message);
}

// Every page is watched for Content-Security-Policy violations (the server sends a strict
// policy): the browser reports each as a console error; any one fails the run at the end.
const cspViolations = [];
function watchCsp(page) {
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) {
      cspViolations.push(`${page.url()}: ${message.text()}`);
    }
  });
}

// Accessibility: axe-core checks every page of the client journey against WCAG 2.1 A and AA;
// any violation fails the run at the end, with the rule and the elements.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const a11yViolations = [];
async function a11y(page, label) {
  // page.evaluate goes through DevTools, so the page's CSP (no injected scripts) allows it.
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  for (const v of result.violations) {
    const where = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ");
    a11yViolations.push(`${label}: ${v.id} (${v.impact}): ${v.help} [${where}]`);
  }
  return result.violations.length;
}

let stepNumber = 0;
let stepNote = "";
const started = Date.now();

/** A detail worth printing next to the step's "ok". */
function note(text) {
  stepNote = text;
}

async function step(page, name, body) {
  stepNumber += 1;
  const label = `${String(stepNumber).padStart(2, "0")}-${name}`;
  const t0 = Date.now();
  stepNote = "";
  process.stdout.write(`• ${name} … `);
  try {
    await body();
  } catch (error) {
    process.stdout.write("FAILED\n");
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${label}-FAILED.png`), fullPage: true }).catch(() => {});
    const why = error instanceof StepFailure ? error.message : (error?.message ?? String(error)).split("\n")[0];
    throw new StepFailure(`step "${name}" failed: ${why}\n  screenshot: ${path.join(SCREENSHOT_DIR, `${label}-FAILED.png`)}`);
  }
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${label}.png`), fullPage: true });
  // The client app's pages; the admin is Django's own.
  const a11yNote = new URL(page.url()).pathname.startsWith("/admin") ? "" : ` axe: ${await a11y(page, label)}`;
  process.stdout.write(`ok (${((Date.now() - t0) / 1000).toFixed(1)} s)${stepNote ? ` ${stepNote}` : ""}${a11yNote}\n`);
}

async function main() {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: !process.env.HEADED,
    // launch() gives the browser a fresh temporary profile, removed when it closes.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    await clientJourney(browser);
    await advisorApproval(browser);
  } finally {
    await browser.close();
  }
  if (cspViolations.length) {
    throw new StepFailure(`Content-Security-Policy violations:\n  ${cspViolations.join("\n  ")}`);
  }
  if (a11yViolations.length) {
    throw new StepFailure(`WCAG A/AA violations (axe-core):\n  ${a11yViolations.join("\n  ")}`);
  }
  console.log(`\nAll steps passed in ${((Date.now() - started) / 1000).toFixed(1)} s. Screenshots: ${SCREENSHOT_DIR}`);
}

async function clientJourney(browser) {
  const context = await browser.newContext({ baseURL: BASE_URL, viewport: VIEWPORT });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  watchCsp(page);
  const serverErrors = [];
  page.on("response", (response) => {
    if (response.url().includes("/api/") && response.status() >= 500) {
      serverErrors.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    }
  });

  await step(page, "landing", async () => {
    // A first visit, logged out: what Meridian is and its disclosures, before any login.
    const response = await page.goto("/");
    if (!response || response.status() !== 200) fail(`GET / answered ${response?.status()}`);
    if (await page.getByText("make frontend").count()) fail("the server has no frontend build: run `make frontend`");
    await page.getByRole("heading", { name: "Invest towards what matters to you" }).waitFor();
    for (const disclosure of [/0\.25% a year/, /paper trades/, /not guarantees/]) {
      if (!(await page.getByText(disclosure).count())) fail(`the landing page lacks the disclosure ${disclosure}`);
    }
    if (page.url().includes("/login")) fail(`/ went to the login page: ${page.url()}`);
    await page.getByRole("link", { name: "Sign up" }).click();
    await page.waitForURL("**/signup");
  });

  await step(page, "sign-up", async () => {
    const response = await page.goto("/signup");
    if (!response || response.status() !== 200) fail(`GET /signup answered ${response?.status()}`);
    await page.getByLabel("First name").fill(client.first);
    await page.getByLabel("Last name").fill(client.last);
    await page.getByLabel("Email").fill(client.email);
    await page.getByLabel("Password").fill(client.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL("**/onboarding", { timeout: STEP_TIMEOUT_MS });
    await page.getByRole("heading", { name: "Tell us about yourself" }).waitFor();
  });

  await step(page, "onboarding-profile", async () => {
    // Short screens; pre-filled fields (names from sign-up, country "US") are left as they are.
    const part = async (n) => {
      const text = await page.getByTestId("kyc-progress").innerText();
      if (!text.startsWith(`Part ${n} of 4`)) fail(`expected part ${n} of 4, the page says "${text}"`);
    };
    await part(1);
    if ((await page.getByLabel("First name").inputValue()) !== client.first) fail("the first name is not pre-filled");
    await page.getByLabel("Date of birth").fill("1988-04-12");
    await page.getByLabel("Phone (optional)").fill("+14155550142");
    await page.getByLabel("Marital status").selectOption({ label: "Married or civil partnership" });
    await page.getByLabel("Dependents").fill("1");
    await page.getByLabel("Education").selectOption({ label: "Bachelor's degree" });
    await page.getByRole("button", { name: "Next" }).click();

    await part(2);
    await page.getByLabel("Street address").fill("500 Market Street");
    // Back and forward again: nothing typed is lost.
    await page.getByRole("button", { name: "Back" }).click();
    await part(1);
    if ((await page.getByLabel("Date of birth").inputValue()) !== "1988-04-12") fail("Back lost the date of birth");
    await page.getByRole("button", { name: "Next" }).click();
    if ((await page.getByLabel("Street address").inputValue()) !== "500 Market Street") fail("Back lost the address");
    if ((await page.getByLabel("Country").inputValue()) !== "US") fail("the country is not pre-filled with US");
    await page.getByLabel("City").fill("San Francisco");
    await page.getByLabel("State / region").fill("CA");
    await page.getByLabel("Postal code").fill("94105");
    await page.getByRole("button", { name: "Next" }).click();

    await part(3);
    await page.getByLabel("Employment", { exact: true }).selectOption({ label: "Employed" });
    await page.getByLabel("Annual income").fill("120000");
    await page.getByLabel("Net worth", { exact: true }).fill("250000");
    await page.getByLabel("Liquid net worth").fill("80000");
    await page.getByLabel("Tax ID (SSN or ITIN)").fill("123-45-6789");
    await page.getByRole("button", { name: "Next" }).click();

    await part(4);
    await page.getByLabel("Investment experience").selectOption({ label: "Moderate (2–10 years)" });
    await page.getByLabel("Main objective").selectOption({ label: "Growth" });
    await page.getByLabel("Time horizon").selectOption({ label: "Over 20 years" });
    await page.getByLabel("Liquidity needs").selectOption({ label: "Low: no withdrawals expected for years" });
    await page.getByRole("button", { name: "Save and continue" }).click();
    const error = page.locator(".alert-error");
    const missing = page.getByTestId("kyc-missing");
    await Promise.race([
      page.getByRole("progressbar", { name: "Questionnaire progress" }).waitFor(),
      error.waitFor().then(async () => fail(`profile refused: ${await error.innerText()}`)),
      missing.waitFor().then(async () => fail(`KYC incomplete: ${await missing.innerText()}`)),
    ]);
  });

  await step(page, "onboarding-questionnaire", async () => {
    const progress = page.getByRole("progressbar", { name: "Questionnaire progress" });
    const total = Number(await progress.getAttribute("aria-valuemax"));
    if (!(total > 0)) fail("the questionnaire has no questions");
    for (let i = 0; i < total; i += 1) {
      await page.getByText(`Question ${i + 1} of ${total}`).waitFor();
      const radios = page.locator('.question input[type="radio"]');
      const count = await radios.count();
      // A middle answer: a moderate investor, not an extreme one.
      await radios.nth(Math.min(1, count - 1)).check();
      const answered = Number(await progress.getAttribute("aria-valuenow"));
      if (answered !== i + 1) fail(`progress shows ${answered} answered after ${i + 1} answers`);
      if (i < total - 1) await page.getByRole("button", { name: "Next" }).click();
    }
    await page.getByRole("button", { name: "See my risk level" }).click();
    await page.getByRole("heading", { name: "Your risk level" }).waitFor();
  });

  await step(page, "onboarding-risk-level", async () => {
    const level = page.locator(".risk-level-number");
    await level.waitFor();
    const value = Number(await level.innerText());
    if (!(value >= 1 && value <= 10)) fail(`risk level shows "${value}"`);
    // The explanation is generated from the same decision record as the number: it must agree.
    await page.getByText(new RegExp(`Your risk level is ${value} of 10, set by`)).first().waitFor();
    await page.getByTestId("risk-meaning").waitFor();
    // The recommended stock/bond/cash mix, before any money moves.
    const mix = page.getByTestId("recommended-mix");
    await mix.waitFor();
    const mixText = (await mix.textContent()) ?? "";
    for (const part of ["Stocks", "Bonds", "Cash"]) if (!mixText.includes(part)) fail(`the mix has no ${part} column`);
    if (!/\d+%/.test(mixText)) fail(`the mix shows no percentages: "${mixText}"`);
    note(`(level ${value})`);
  });

  await step(page, "first-goal", async () => {
    await page.getByRole("button", { name: "Continue to your first goal" }).click();
    await page.getByLabel("Goal type").selectOption({ label: "Retirement" });
    await page.getByLabel("Name").fill("Retire by the sea");
    await page.getByLabel("Target amount").fill("750000");
    await page.getByLabel("Monthly contribution (optional)").fill("800");
    await page.getByRole("button", { name: "Create goal" }).click();
    // The goal form may ask to confirm a summary before it creates anything.
    const confirm = page.getByRole("button", { name: "Confirm and create" });
    const landed = await Promise.race([
      page.waitForURL("**/dashboard**").then(() => true),
      confirm.waitFor().then(() => false),
    ]);
    if (landed) fail("the goal was created without confirming the money it moves");
    // Nothing moves before the client confirms: the summary names the monthly deposit.
    await page.getByTestId("money-summary").getByText(/\$800\.00 every month/).waitFor();
    await confirm.click();
    await page.waitForURL("**/dashboard**");
    await page.getByTestId("total-value").waitFor();
  });

  let before = "";
  let after = "";
  await step(page, "dashboard-before-deposit", async () => {
    before = (await page.getByTestId("total-value").innerText()).trim();
    if (!before.startsWith("$")) fail(`total value reads "${before}"`);
    await page.getByText("Retire by the sea").first().waitFor();
  });

  await step(page, "deposit", async () => {
    const deposits = [];
    const onRequest = (request) => {
      if (request.method() === "POST" && /\/accounts\/\d+\/deposits\/$/.test(request.url())) {
        deposits.push(request.headers()["idempotency-key"]);
      }
    };
    page.on("request", onRequest);
    await page.getByRole("link", { name: "Money" }).click();
    await page.getByLabel("Amount to deposit").fill("1,000");
    const button = page.getByRole("button", { name: "Deposit $1,000.00" });
    // A double click must pay once: the button locks on the first click.
    await button.dblclick();
    const status = page.getByRole("status").filter({ hasText: /deposit|invested|received/i });
    const error = page.locator(".alert-error");
    await Promise.race([
      status.first().waitFor(),
      error.waitFor().then(async () => fail(`deposit refused: ${await error.innerText()}`)),
    ]);
    page.off("request", onRequest);
    if (deposits.length !== 1) fail(`expected one deposit request, saw ${deposits.length}`);
    if (!deposits[0]) fail("the deposit was sent without an Idempotency-Key header");
  });

  await step(page, "dashboard-after-deposit", async () => {
    await page.getByRole("link", { name: "Dashboard" }).click();
    const total = page.getByTestId("total-value");
    await total.waitFor();
    await page.waitForFunction(
      ([selector, old]) => {
        const el = document.querySelector(selector);
        return el && el.textContent.trim() !== old;
      },
      ['[data-testid="total-value"]', before],
      { timeout: STEP_TIMEOUT_MS },
    ).catch(() => fail(`the total still reads ${before} after a $1,000 deposit`));
    after = (await total.innerText()).trim();
    note(`(${before} → ${after})`);
  });

  await step(page, "plan-scheduled", async () => {
    // The goal's monthly contribution, confirmed with the goal, is a scheduled deposit.
    await page.getByRole("link", { name: "Money" }).click();
    const recurring = page.locator(".recurring-list");
    await recurring.getByText(/\$800\.00/).first().waitFor();
    note(`(${(await recurring.locator(".recurring-row").first().innerText()).replace(/\s+/g, " ").slice(0, 60)})`);
  });

  await step(page, "notification", async () => {
    // The deposit notified the client: the bell counts it (it polls; a reload asks at once).
    await page.reload();
    const bell = page.getByRole("button", { name: /^Notifications, \d+ unread$/ });
    await bell.waitFor();
    await bell.click();
    const panel = page.getByRole("region", { name: "Notifications" });
    await panel.getByText(/deposit/i).first().waitFor();
    note(`(${await bell.getAttribute("aria-label")})`);
    await bell.click();
  });

  await step(page, "chat", async () => {
    let chatStatus = null;
    page.on("response", (response) => {
      if (response.url().includes("/api/v1/chat/messages/")) chatStatus = response.status();
    });
    await page.getByRole("button", { name: "Ask Meridian" }).click();
    const input = page.getByLabel("Your message");
    await input.fill("what is my balance?");
    await input.press("Enter");
    const reply = page.locator(".chat-msg-assistant .chat-text");
    const error = page.locator(".chat-panel .alert-error");
    await Promise.race([
      reply.first().waitFor(),
      error.waitFor().then(async () => {
        if (chatStatus === 404) {
          fail("the chat API is not deployed yet (POST /api/v1/chat/messages/ answered 404)");
        }
        fail(`chat error (HTTP ${chatStatus}): ${await error.innerText()}`);
      }),
    ]);
    const text = (await reply.first().innerText()).trim();
    if (!text) fail("the assistant's reply is empty");
    // Grounded: the answer quotes the client's own total, the figure the dashboard shows.
    if (!text.includes(after)) fail(`the reply does not state the balance ${after}: "${text}"`);
    note(`(reply: "${text.slice(0, 60)}${text.length > 60 ? "…" : ""}")`);
  });

  await step(page, "settings-kyc-complete", async () => {
    // On a phone the chat covers the page: close it, as a user would.
    const closeChat = page.getByRole("button", { name: "Close chat" }).first();
    if (await closeChat.isVisible()) await closeChat.click();
    await page.getByRole("link", { name: "Settings" }).click();
    const kyc = page.locator("dt", { hasText: /^KYC$/ }).locator("xpath=following-sibling::dd[1]");
    await kyc.waitFor();
    const text = (await kyc.innerText()).trim();
    if (!text.startsWith("Complete")) fail(`Settings shows KYC "${text}"`);
  });

  await step(page, "logout-clears-next", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL("**/login**");
    await page.getByRole("heading", { name: "Log in to Meridian" }).waitFor();
    // Give any redirect a moment to land, then check the next person starts clean.
    await page.waitForTimeout(300);
    const url = new URL(page.url());
    if (url.pathname !== "/login" || url.searchParams.has("next")) fail(`after log-out the URL is ${page.url()}`);
  });

  if (serverErrors.length) fail(`server errors during the client journey: ${serverErrors.join("; ")}`);
  await context.close();
}

async function advisorApproval(browser) {
  const context = await browser.newContext({ baseURL: BASE_URL, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  watchCsp(page);

  await step(page, "advisor-login", async () => {
    await page.goto("/admin/login/?next=/admin/");
    await page.locator("#id_username").fill(ADVISOR_EMAIL);
    await page.locator("#id_password").fill(ADVISOR_PASSWORD);
    await page.locator('input[type="submit"], button[type="submit"]').first().click();
    await page.waitForURL((url) => !url.pathname.startsWith("/admin/login"), { timeout: STEP_TIMEOUT_MS }).catch(async () => {
      const note = await page.locator(".errornote").innerText().catch(() => "");
      fail(`admin login failed for ${ADVISOR_EMAIL}${note ? `: ${note}` : ""}`);
    });
  });

  await step(page, "advisor-approves-rebalance", async () => {
    await page.goto("/admin/portfolios/rebalanceproposal/?status__exact=pending");
    const rows = page.locator("#result_list tbody tr");
    if ((await rows.count()) === 0) {
      fail("no pending rebalance proposals in the advisor's book (run seed_demo on a fresh database)");
    }
    await rows.first().locator('input[name="_selected_action"]').check();
    await page.locator('select[name="action"]').selectOption("approve");
    await page.locator('button[name="index"], input[name="index"]').first().click();
    const message = page.locator(".messagelist li").first();
    await message.waitFor();
    const text = await message.innerText();
    if (!/approved and executed/.test(text)) fail(`the admin said: ${text}`);
    note(`(${text.trim().slice(0, 70)})`);
  });

  await context.close();
}

main().catch((error) => {
  console.error(`\nE2E FAILED: ${error instanceof StepFailure ? error.message : error?.stack ?? error}`);
  process.exit(1);
});
