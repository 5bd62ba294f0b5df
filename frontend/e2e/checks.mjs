// Layout checks shared by the end-to-end run (run.mjs) and the screenshot tour (tour.mjs).

/** What the chat button must never sit on: anything to read or press. */
const CONTENT = "a, button, input, select, textarea, label, p, h1, h2, h3, td, th, li, dt, dd, summary";

/**
 * Does the floating "Ask Meridian" button cover any text or control? Checked at the top, the
 * middle and the bottom of the page. Returns a list of problems (empty when clear).
 *
 * A box that meets the button's box is a problem, with one exception: when the button sits in a
 * sticky or fixed bar (the header it docks into on phones), content scrolled underneath that bar
 * is hidden by the bar itself, as on any page with a sticky header, not by the button. A
 * free-floating button has no such bar: anything beneath it at any scroll position counts.
 */
export async function chatButtonOverlaps(page) {
  const problems = [];
  const positions = await page.evaluate(() => {
    const max = Math.max(0, document.documentElement.scrollHeight - window.innerHeight);
    return [...new Set([0, Math.round(max / 2), max])];
  });
  for (const y of positions) {
    await page.evaluate((top) => window.scrollTo(0, top), y);
    await page.waitForTimeout(100);
    const found = await page.evaluate(
      ({ selector, scrollY }) => {
        const button = document.querySelector(".chat-toggle");
        if (!button) return ["no chat button on the page"];
        const box = button.getBoundingClientRect();
        if (box.width === 0 || box.height === 0) return ["the chat button is not visible"];
        // The bar the button lives in, if any: its closest fixed or sticky ancestor.
        let bar = null;
        for (let el = button.parentElement; el; el = el.parentElement) {
          const position = getComputedStyle(el).position;
          if (position === "fixed" || position === "sticky") {
            bar = el;
            break;
          }
        }
        const barBox = bar?.getBoundingClientRect() ?? null;
        const meets = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        const visible = (el) => {
          const style = getComputedStyle(el);
          if (style.visibility === "hidden" || style.display === "none" || Number(style.opacity) === 0) return false;
          if (el.closest("[hidden], .visually-hidden, [aria-hidden='true']")) return false;
          const r = el.getBoundingClientRect();
          return r.width > 1 && r.height > 1;
        };
        const out = [];
        for (const el of document.querySelectorAll(selector)) {
          if (el === button || button.contains(el) || el.contains(button)) continue;
          if (el.closest(".chat-panel")) continue; // the panel the button opens
          if (!visible(el)) continue;
          const r = el.getBoundingClientRect();
          if (!meets(r, box)) continue;
          const inBar = bar ? bar.contains(el) : false;
          // Page content scrolled under the sticky header: the header hides it, not the button.
          if (!inBar && barBox && r.top < barBox.bottom && meets(r, barBox)) {
            const overlapTop = Math.max(r.top, box.top);
            const overlapBottom = Math.min(r.bottom, box.bottom);
            if (overlapTop >= barBox.top && overlapBottom <= barBox.bottom) continue;
          }
          const name = (el.getAttribute("aria-label") || el.textContent || "").replace(/\s+/g, " ").trim().slice(0, 40);
          out.push(
            `<${el.tagName.toLowerCase()}> "${name}" at ${Math.round(r.left)},${Math.round(r.top)} ` +
              `${Math.round(r.width)}×${Math.round(r.height)} meets the chat button at ` +
              `${Math.round(box.left)},${Math.round(box.top)} (scrolled to ${scrollY})`,
          );
        }
        return out;
      },
      { selector: CONTENT, scrollY: y },
    );
    problems.push(...found);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  return [...new Set(problems)];
}
