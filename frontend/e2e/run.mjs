#!/usr/bin/env node
// End-to-end run of the browser client against a live server, driving Debian's Chromium through
// playwright-core (no browser downloads).
//
//   BASE_URL          the server (default http://127.0.0.1:8000)
//   ADVISOR_EMAIL     a staff login: the workspace queue, then approves a pending rebalance
//   ADVISOR_PASSWORD  (defaults: the seed_demo advisor)
//   DEMO_EMAIL        a seed_demo client with tax history: the Tax centre's past years
//   DEMO_PASSWORD     (defaults: Maya, who has a Roth IRA and executed harvests in 2022 and 2023)
//   SCREENSHOT_DIR    where each step's screenshot goes (default <repo>/screenshots)
//   CHROMIUM          the browser binary (default /usr/bin/chromium)
//   VIEWPORT          e.g. 375x812 to run the client's journey at phone width (default 1280x900)
//   HEADED=1          watch it run
//
// The server needs seed_demo data (market data, an advisor, pending rebalance proposals).
// Exits non-zero with the failing step's name and a screenshot of it.

import { mkdirSync, readFileSync } from "node:fs";
import { open as openFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

import { chatButtonOverlaps } from "./checks.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE_URL = (process.env.BASE_URL ?? "http://127.0.0.1:8000").replace(/\/$/, "");
const ADVISOR_EMAIL = process.env.ADVISOR_EMAIL ?? "advisor@meridian.example";
const ADVISOR_PASSWORD = process.env.ADVISOR_PASSWORD ?? "meridian-demo-2026";
const DEMO_EMAIL = process.env.DEMO_EMAIL ?? "maya@meridian.example";
const DEMO_PASSWORD = process.env.DEMO_PASSWORD ?? "meridian-demo-2026";
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
// axe-core's own checks (link-in-text-block) set inline styles while it runs, which the policy
// blocks and reports; those reports are about the checker, not the page, so they are not counted.
const axeRunning = new WeakSet();
function watchCsp(page) {
  page.on("console", (message) => {
    if (axeRunning.has(page)) return;
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) {
      cspViolations.push(`${page.url()}: ${message.text()}`);
    }
  });
}

// Accessibility: axe-core checks every page of the client journey against WCAG 2.1 A and AA;
// any violation fails the run at the end, with the rule and the elements.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const a11yViolations = [];
async function a11y(page, label, { record = true } = {}) {
  axeRunning.add(page);
  let result;
  try {
    // page.evaluate goes through DevTools, so the page's CSP (no injected scripts) allows it.
    if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) await page.evaluate(AXE_SOURCE);
    result = await page.evaluate(() =>
      window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
    );
    await page.waitForTimeout(100); // let the console catch up before reports count again
  } finally {
    axeRunning.delete(page);
  }
  const found = result.violations.map((v) => {
    const where = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ");
    return `${label}: ${v.id} (${v.impact}): ${v.help} [${where}]`;
  });
  if (record) a11yViolations.push(...found);
  else if (found.length) process.stdout.write(`\n  (reported, not failing) ${found.join("\n  ")}\n  `);
  return result.violations.length;
}

let stepNumber = 0;
let stepNote = "";
const started = Date.now();

/** A detail worth printing next to the step's "ok". */
function note(text) {
  stepNote = text;
}

/** `axe`: true or false to check a page or not (default: the client app's pages, not the
 * admin's); "report" to print what axe finds without failing the run. */
async function step(page, name, body, { axe = null } = {}) {
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
  // The client app's pages; the admin is Django's own, checked only where a step asks (axe: true).
  const check = axe ?? !new URL(page.url()).pathname.startsWith("/admin");
  const a11yNote = check ? ` axe: ${await a11y(page, label, { record: check !== "report" })}` : "";
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
    await demoTaxYears(browser);
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
    // The account type follows the goal: a traditional IRA is suggested for retirement.
    if (!(await page.getByRole("radio", { name: "Traditional IRA" }).isChecked())) {
      fail("a retirement goal does not pre-select a traditional IRA");
    }
    // This journey invests in a taxable account: its goal page then lists tax lots.
    await page.getByRole("radio", { name: "Taxable account" }).check();
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

  let goalPath = "";
  await step(page, "what-if-updates-deposit", async () => {
    // Saving a what-if to the plan offers (never makes) the matching change to the deposit.
    await page.getByRole("link", { name: "Goals" }).click();
    await page.getByRole("link", { name: "Retire by the sea" }).first().click();
    await page.getByRole("heading", { name: "What if…" }).waitFor();
    goalPath = new URL(page.url()).pathname;
    if ((await page.getByTestId("account-type").innerText()).trim() !== "Account: Taxable account") {
      fail(`the goal page shows "${await page.getByTestId("account-type").innerText()}"`);
    }
    await page.getByTestId("scheduled-monthly").getByText("scheduled $800.00/mo").waitFor();
    const writes = [];
    const onRequest = (request) => {
      if (request.method() !== "GET" && /\/recurring-deposits\//.test(request.url())) writes.push(request.method());
    };
    page.on("request", onRequest);
    await page.getByRole("textbox", { name: "Monthly contribution", exact: true }).fill("950");
    await page.getByRole("button", { name: "Save to goal" }).click();
    const offer = page.getByRole("group", { name: "Update your monthly deposit" });
    await offer.waitFor();
    await offer.getByText(/Replace your current monthly deposits \(\$800\.00 a month\) with/).waitFor();
    if (writes.length) fail(`the deposit changed before the client confirmed: ${writes.join(", ")}`);
    await offer.getByRole("button", { name: "Confirm $950.00/mo" }).click();
    const error = page.locator(".scheduled-vs-plan .alert-error");
    await Promise.race([
      page.getByText("Your monthly deposit is now $950.00 on the 1st.").waitFor(),
      error.waitFor().then(async () => fail(`the update was refused: ${await error.innerText()}`)),
    ]);
    page.off("request", onRequest);
    await page.getByTestId("scheduled-monthly").getByText("scheduled $950.00/mo").waitFor();
    note(`(${writes.join(" + ")})`);
  });

  await step(page, "money-lists-new-deposit", async () => {
    await page.getByRole("link", { name: "Money" }).click();
    const rows = page.locator(".recurring-list .recurring-row");
    await rows.filter({ hasText: "$950.00 on the 1st of each month" }).first().waitFor();
    const texts = (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, " "));
    if (texts.some((t) => t.includes("$800.00") && !t.includes("Paused"))) {
      fail(`the old $800.00 deposit is still scheduled: ${texts.join(" | ")}`);
    }
    note(`(${texts.length} scheduled: ${texts.map((t) => t.slice(0, 40)).join(" | ")})`);
  });

  await step(page, "tax-centre", async () => {
    await page.getByRole("link", { name: "Taxes" }).click();
    await page.getByRole("heading", { name: "Taxes", level: 1 }).waitFor();
    // The figures, or an explicit empty state: never a blank card.
    const gains = page.getByTestId("realised-gains");
    const empty = page.getByText(/^No gains or losses realised in \d{4}$|^No tax figures for \d{4} yet$/);
    await Promise.race([gains.waitFor(), empty.first().waitFor()]);
    const year = await page.getByLabel("Tax year").inputValue();
    if (!/^\d{4}$/.test(year)) fail(`the year picker reads "${year}"`);
    await page.getByRole("heading", { name: `Realised gains and losses in ${year}` }).waitFor();
    await page.getByRole("heading", { name: "Tax-loss harvesting" }).waitFor();
    await page.getByRole("heading", { name: "Documents" }).waitFor();
    // A tax report covers a year that is over: for the latest year, the one before is offered.
    await page.getByRole("button", { name: `Create tax report for ${Number(year) - 1}` }).waitFor();
    await page.locator(".loading").first().waitFor({ state: "detached" }).catch(() => {});
    note(`(${year}: ${(await gains.count()) ? "realised gains shown" : (await empty.first().innerText()).trim()})`);
  });

  await step(page, "tax-lots", async () => {
    await page.goto(goalPath);
    await page.getByRole("button", { name: "Show lots" }).click();
    const table = page.getByTestId("tax-lots");
    const none = page.getByText("No tax lots yet");
    const error = page.locator(".tax-lots .alert-error");
    await Promise.race([
      table.waitFor(),
      none.waitFor(),
      error.waitFor().then(async () => fail(`the tax lots did not load: ${await error.innerText()}`)),
    ]);
    await page.getByLabel("Which lots a sale uses").waitFor();
    note(`(${(await table.count()) ? `${await table.locator("tbody tr").count()} lots` : "no lots yet"})`);
  });

  await step(page, "phone-chat-button-clear", async () => {
    // At 375 px the chat button must not cover any text or control on any client page.
    const wide = page.viewportSize();
    if (wide.width > 375) await page.setViewportSize({ width: 375, height: 812 });
    const pages = [
      ["dashboard", "/dashboard", () => page.getByTestId("total-value").waitFor()],
      ["goals", "/goals", () => page.locator(".goal-card").first().waitFor()],
      ["goal", goalPath, () => page.getByRole("heading", { name: "What if…" }).waitFor()],
      ["money", "/money", () => page.getByTestId("account-value").waitFor()],
      ["tax", "/tax", () => page.getByRole("heading", { name: "Documents" }).waitFor()],
      ["settings", "/settings", () => page.locator(".risk-level-number").waitFor()],
    ];
    const problems = [];
    for (const [name, url, ready] of pages) {
      await page.goto(url);
      await ready();
      await page.waitForLoadState("networkidle").catch(() => {});
      for (const problem of await chatButtonOverlaps(page)) problems.push(`${name}: ${problem}`);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `chat-button-375-${name}.png`), fullPage: true });
    }
    if (wide.width > 375) await page.setViewportSize(wide);
    await page.goto("/dashboard");
    await page.getByTestId("total-value").waitFor();
    if (problems.length) fail(`the chat button covers content at 375 px:\n    ${problems.join("\n    ")}`);
    note(`(${pages.length} pages clear)`);
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

/** Fails when the page is wider than the window (a phone would scroll it sideways). */
async function noSideScroll(page) {
  const extra = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (extra > 0) fail(`the page is ${extra}px wider than the ${page.viewportSize()?.width}px window`);
}

/** "$12,871.63" → 12871.63 */
function dollars(text) {
  return Number(text.replace(/[^0-9.−-]/g, "").replace("−", "-"));
}

async function demoTaxYears(browser) {
  // The demo client with tax history (seed_demo_portfolios: two years of deposits, automatic
  // harvests in 2022 and 2023, May 2023's statements and the 2022 tax report, a Roth IRA).
  const context = await browser.newContext({ baseURL: BASE_URL, viewport: VIEWPORT, acceptDownloads: true });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  watchCsp(page);
  const serverErrors = [];
  page.on("response", (response) => {
    if (response.url().includes("/api/") && response.status() >= 500) {
      serverErrors.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    }
  });

  await step(page, "demo-login", async () => {
    await page.goto("/login");
    await page.getByLabel("Email").fill(DEMO_EMAIL);
    await page.getByLabel("Password").fill(DEMO_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL("**/dashboard**").catch(() => fail(`${DEMO_EMAIL} could not log in (run seed_demo)`));
    await page.getByTestId("total-value").waitFor();
    // Each goal row names its account's type; the Roth IRA goal's says so.
    const types = await page.getByTestId("goal-account-type").allInnerTexts();
    if (!types.includes("Roth IRA") || !types.includes("Taxable")) fail(`the goal rows' account types: ${types.join(", ")}`);
    await noSideScroll(page);
    note(`(${types.join(", ")})`);
  });

  let reportPdf = "";
  await step(page, "tax-centre-2022", async () => {
    await page.goto("/tax");
    await page.getByRole("heading", { name: "Taxes", level: 1 }).waitFor();
    await page.getByLabel("Tax year").selectOption("2022");
    await page.getByRole("heading", { name: "Realised gains and losses in 2022" }).waitFor();
    await page.getByTestId("realised-gains").waitFor();
    const harvested = page.getByTestId("harvested-losses");
    await harvested.waitFor();
    const losses = dollars(await harvested.innerText());
    if (!(losses > 0)) fail(`2022 shows harvested losses of "${await harvested.innerText()}"`);
    await page.getByTestId("harvest-history").getByText(/harvests? executed in 2022/).waitFor();
    // The 2022 tax report is listed, as a PDF and a CSV.
    const pdf = page.getByRole("link", { name: /^PDF of Tax report 2022/ });
    await pdf.waitFor();
    reportPdf = (await pdf.getAttribute("href")) ?? "";
    if (!/\/documents\/\d+\/pdf\/$/.test(reportPdf)) fail(`the report's PDF link is "${reportPdf}"`);
    await page.locator(".loading").first().waitFor({ state: "detached" }).catch(() => {});
    await noSideScroll(page);
    note(`(harvested ${await harvested.innerText()}; tax saved ${await page.getByTestId("tax-saved").innerText()})`);
  });

  await step(page, "tax-report-pdf", async () => {
    // What the link downloads (the session cookie authenticates it), and what the server says it is.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: /^PDF of Tax report 2022/ }).click(),
    ]);
    const name = download.suggestedFilename();
    if (!name.endsWith(".pdf")) fail(`the download is named "${name}"`);
    const file = await openFile(await download.path());
    const head = Buffer.alloc(5);
    await file.read(head, 0, 5, 0);
    await file.close();
    if (head.toString("latin1") !== "%PDF-") fail(`the download does not start like a PDF: ${JSON.stringify(head.toString("latin1"))}`);
    const response = await context.request.get(reportPdf);
    const type = response.headers()["content-type"] ?? "";
    if (response.status() !== 200 || !type.startsWith("application/pdf")) {
      fail(`GET ${reportPdf} answered ${response.status()} ${type}`);
    }
    note(`(${name}, ${(await response.body()).length} bytes, ${type})`);
  });

  await step(page, "tax-centre-2023-ira", async () => {
    await page.getByLabel("Tax year").selectOption("2023");
    await page.getByRole("heading", { name: "Realised gains and losses in 2023" }).waitFor();
    await page.getByRole("heading", { name: "IRA contributions for 2023" }).waitFor();
    const room = page.getByTestId("ira-room");
    const facts = (await room.innerText()).replace(/\s+/g, " ");
    for (const part of ["Contributed", "Limit", "Room left"]) if (!facts.includes(part)) fail(`the IRA card lacks ${part}: "${facts}"`);
    const card = room.locator("xpath=ancestor::section[1]");
    await card.getByRole("link", { name: "Roth IRA" }).waitFor();
    // A statement on demand: the form offers the last month that is over.
    await page.getByRole("heading", { name: "Monthly statement" }).waitFor();
    await noSideScroll(page);
    note(`(${facts})`);
  });

  await step(page, "settings-harvest-switch", async () => {
    // Maya opted in (seed_demo): the switch is on, and says what that means.
    await page.goto("/settings#tax-harvesting");
    const toggle = page.getByRole("switch", { name: "Automatic tax-loss harvesting" });
    await toggle.waitFor();
    if (!(await toggle.isChecked())) fail("Maya's automatic harvesting shows as off");
    const hint = (await page.getByTestId("harvest-auto-hint").innerText()).trim();
    if (!hint.startsWith("On:")) fail(`the switch's hint reads "${hint}"`);
    await page.getByRole("heading", { name: "What your goals hold" }).waitFor();
    await noSideScroll(page);
  });

  if (serverErrors.length) fail(`server errors as the demo client: ${serverErrors.join("; ")}`);
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

  await step(
    page,
    "advisor-queue",
    async () => {
      // The workspace home: everything waiting for this advisor, oldest first.
      await page.goto("/admin/");
      const queue = page.locator("#ws-queue");
      await queue.waitFor();
      const rows = queue.locator("tbody tr.queue-item");
      if ((await rows.count()) === 0) fail("the advisor's queue is empty (run seed_demo on a fresh database)");
      const since = await rows.locator("td:first-child").allInnerTexts();
      const sorted = [...since].sort();
      if (since.join() !== sorted.join()) fail(`the queue is not oldest first: ${since.join(", ")}`);
      const kinds = await rows.locator("td:nth-child(2)").allInnerTexts();
      if (!kinds.some((k) => /Rebalance to approve|Open escalation/.test(k))) {
        fail(`no pending rebalance or open escalation in the queue: ${[...new Set(kinds)].join(", ")}`);
      }
      note(`(${since.length} items, ${since[0]} … ${since.at(-1)}; ${[...new Set(kinds)].join(", ")})`);
    },
    { axe: true },
  );

  await step(
    page,
    "advisor-queue-item",
    async () => {
      const item = page
        .locator("#ws-queue tr.queue-item")
        .filter({ hasText: /Rebalance to approve|Open escalation/ })
        .first();
      const what = (await item.locator("td:nth-child(4)").innerText()).trim();
      await item.locator("td:nth-child(4) a").click();
      await page.waitForURL(/\/admin\/(portfolios\/rebalanceproposal|nlp\/escalation)\/\d+\/change\//);
      await page.locator("#content h1, #content h2").first().waitFor();
      note(`(${what.slice(0, 60)})`);
    },
    // Django's stock change page, with the workspace styles (underlined breadcrumb links).
    { axe: true },
  );

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
