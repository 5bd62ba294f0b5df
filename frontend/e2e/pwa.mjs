#!/usr/bin/env node
// The browser client as an installable app, checked in Chromium against a live server
// (BASE_URL, default http://127.0.0.1:8000): the manifest and its icons load, the service
// worker takes control, and offline the app shell still opens while the API is never served
// from a cache. Exits non-zero with the reason.

import { chromium } from "playwright-core";

const BASE_URL = (process.env.BASE_URL ?? "http://127.0.0.1:8000").replace(/\/$/, "");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

function check(ok, message) {
  if (!ok) throw new Error(message);
  process.stdout.write(`• ${message} … ok\n`);
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
try {
  const context = await browser.newContext({ baseURL: BASE_URL });
  const page = await context.newPage();
  await page.goto("/login", { waitUntil: "networkidle" });

  const manifestHref = await page.getAttribute('link[rel="manifest"]', "href");
  const manifest = await (await page.request.get(manifestHref)).json();
  check(manifest.display === "standalone" && manifest.start_url === "/", "the manifest says standalone, from /");
  for (const icon of manifest.icons) {
    const response = await page.request.get(icon.src);
    check(response.ok() && response.headers()["content-type"].startsWith("image/png"), `icon ${icon.sizes} ${icon.purpose} loads`);
  }

  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  check(scope === `${BASE_URL}/`, "the service worker is active for the whole app");
  await page.reload({ waitUntil: "networkidle" }); // now controlled by the worker
  check(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)), "the page is controlled by it");

  await context.setOffline(true);
  await page.goto("/goals", { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#root *", { timeout: 10_000 });
  check((await page.title()).startsWith("Meridian"), "offline, a client route still opens the app shell");
  const api = await page.evaluate(async () => {
    try {
      const response = await fetch("/api/v1/auth/me/");
      return `answered ${response.status}`;
    } catch {
      return "failed";
    }
  });
  check(api === "failed", "offline, the API is not served from a cache");
  await context.setOffline(false);
} finally {
  await browser.close();
}
process.stdout.write("PWA checks passed.\n");
