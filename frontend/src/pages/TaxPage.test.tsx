import { fireEvent, render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";

import type { TaxDocument, TaxHarvest, TaxSummary } from "../api/tax";
import { json, mockFetch } from "../test/fetchMock";
import type { Call } from "../test/fetchMock";
import TaxPage from "./TaxPage";

const figures = (proceeds: string, basis: string, gain: string, washed: string, reportable: string) => ({
  proceeds,
  cost_basis: basis,
  gain,
  wash_disallowed: washed,
  reportable,
});

// A year with one short-term loss partly washed and one long-term gain:
// short: 4,000.00 proceeds − 5,234.50 basis = −1,234.50, of which 200.00 disallowed → −1,034.50;
// long: 3,000.00 − 2,000.00 = +1,000.00; total: −234.50, reportable −34.50.
const summary: TaxSummary = {
  year: 2023,
  realized: {
    short_term: figures("4000.00", "5234.50", "-1234.50", "200.00", "-1034.50"),
    long_term: figures("3000.00", "2000.00", "1000.00", "0.00", "1000.00"),
    total: figures("7000.00", "7234.50", "-234.50", "200.00", "-34.50"),
  },
  wash_sales: { count: 1, disallowed: "200.00" },
  dividends: "88.10",
  fees: "21.75",
  harvested_losses: "1234.50",
  estimated_tax_saved: "296.28",
  ira: { year: 2023, limit: "6500.00", contributed: "2500.00", room: "4000.00" },
};

const harvest: TaxHarvest = {
  id: 5,
  account: 4,
  kind: "harvest",
  status: "pending",
  market_date: "2023-06-09",
  client_id: 2,
  sell: "VTI",
  buy: "SPY",
  units: "20.0000",
  price: "200.00",
  proceeds: "4000.00",
  buy_units: "9.5000",
  buy_price: "421.05",
  lots: [
    {
      lot: 71,
      acquired_on: "2023-01-10",
      units: "20.0000",
      unit_cost: "250.00",
      cost_basis: "5000.00",
      proceeds: "4000.00",
      gain: "-1000.00",
      term: "short",
    },
  ],
  short_term_gain: "-1000.00",
  long_term_gain: "0.00",
  tax_rate_short: "0.24",
  tax_rate_long: "0.15",
  tax_saved: "240.00",
  reason: "VTI is 20% below what you paid for it.",
  superseded_reason: "",
  decided_at: null,
  executed_transaction: null, // until it executes
  created_at: "2023-06-09T22:00:00Z",
};

// An automatic harvest executed in 2023, and one in 2022 (not listed for 2023).
const executed: TaxHarvest[] = [
  { ...harvest, id: 6, status: "executed", market_date: "2023-01-03", tax_saved: "240.00" },
  { ...harvest, id: 7, status: "executed", market_date: "2022-10-03", tax_saved: "120.00" },
];

// Account summaries as GET accounts/ sends them (the fields the page reads).
const accounts = [
  { id: 4, goal_id: 3, goal_name: "House fund", market_date: "2023-06-09", account_type: "taxable" },
  { id: 8, goal_id: 9, goal_name: "Roth IRA", market_date: "2023-06-09", account_type: "roth_ira" },
];

const documents: TaxDocument[] = [
  {
    id: 9,
    kind: "tax_report",
    title: "Tax report 2022",
    account: null,
    period_start: "2022-01-01",
    period_end: "2022-12-31",
    created_at: "2023-01-15T10:00:00Z",
    pdf_url: "/api/v1/documents/9/pdf/",
    csv_url: "/api/v1/documents/9/csv/",
  },
];

function server(overrides: (call: Call, path: string) => Response | null = () => null) {
  return (call: Call) => {
    const path = new URL(call.url, "http://localhost").pathname;
    const answer = overrides(call, path);
    if (answer) return answer;
    if (path === "/api/v1/tax/summary/") return json(summary);
    if (path === "/api/v1/realized-gains/") {
      return json({ year: 2023, ...summary.realized, short_term: summary.realized.short_term, sales: [] });
    }
    if (path === "/api/v1/accounts/") return json(accounts);
    if (path === "/api/v1/tax-harvests/") {
      const status = new URL(call.url, "http://localhost").searchParams.get("status");
      return json(status === "executed" ? executed : [harvest]);
    }
    if (path === "/api/v1/documents/") return json(documents);
    return json({ message: "not found", code: "not_found", extra: {} }, 404);
  };
}

function renderPage() {
  return render(
    <MemoryRouter>
      <TaxPage />
    </MemoryRouter>,
  );
}

describe("the Tax centre", () => {
  it("shows the year's figures as the API states them, formatted as money", async () => {
    const { calls } = mockFetch(server());
    renderPage();

    const table = await screen.findByTestId("realised-gains");
    const row = (name: RegExp) => within(table).getByRole("rowheader", { name }).closest("tr")!;
    const cells = (tr: HTMLElement) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent);
    expect(cells(row(/^Short-term/))).toEqual(["$4,000.00", "$5,234.50", "−$1,234.50", "$200.00", "−$1,034.50"]);
    expect(cells(row(/^Long-term/))).toEqual(["$3,000.00", "$2,000.00", "+$1,000.00", "$0.00", "+$1,000.00"]);
    expect(cells(row(/^Total/))).toEqual(["$7,000.00", "$7,234.50", "−$234.50", "$200.00", "−$34.50"]);
    expect(screen.getByTestId("wash-sales").textContent).toContain("1 wash sale: $200.00 of losses disallowed");
    expect(screen.getByTestId("harvested-losses").textContent).toBe("$1,234.50");
    expect(screen.getByTestId("tax-saved").textContent).toBe("$296.28");
    const ira = screen.getByTestId("ira-room");
    expect(ira.textContent).toContain("$2,500.00");
    expect(ira.textContent).toContain("$6,500.00");
    expect(ira.textContent).toContain("$4,000.00");
    expect((screen.getByLabelText("Tax year") as HTMLSelectElement).value).toBe("2023");
    // The first request leaves the year to the server (the last market close's year).
    expect(calls.find((c) => c.url.includes("tax/summary"))?.url).toBe("/api/v1/tax/summary/");

    // The harvest's preview: the loss, the tax it saves at the client's rate, the replacement and why.
    const preview = await screen.findByTestId("harvest-5");
    expect(within(preview).getByRole("heading", { level: 3 }).textContent).toBe(
      "Harvest a loss in House fund: sell VTI, buy SPY",
    );
    expect(preview.textContent).toContain("Estimated tax saved $240.00 at your 24% bracket.");
    expect(preview.textContent).toContain("keeps your US stock exposure while the loss counts");

    // The year's executed harvests (automatic ones too): 2023's only.
    const history = await screen.findByTestId("harvest-history");
    expect(within(history).getByText("1 harvest executed in 2023")).toBeTruthy();
    const done = within(history).getByRole("rowheader", { name: "Jan 3, 2023" }).closest("tr")!;
    expect(Array.from(done.querySelectorAll("td")).map((td) => td.textContent)).toEqual([
      "House fund",
      "VTI",
      "SPY",
      "−$1,000.00",
      "$240.00",
    ]);
    // The IRA card names the client's IRAs, each a link to its money page.
    expect(within(screen.getByTestId("ira-room").closest("section")!).getByRole("link", { name: "Roth IRA" }).getAttribute("href")).toBe(
      "/money?account=8",
    );

    // Documents: PDF and CSV links, and a tax report on demand.
    const pdf = await screen.findByRole("link", { name: "PDF of Tax report 2022" });
    expect(pdf.getAttribute("href")).toBe("/api/v1/documents/9/pdf/");
    expect(screen.getByRole("link", { name: "CSV of Tax report 2022" }).getAttribute("href")).toBe("/api/v1/documents/9/csv/");
  });

  it("says plainly when nothing was realised in the year", async () => {
    const zero = figures("0.00", "0.00", "0.00", "0.00", "0.00");
    mockFetch(
      server((_call, path) =>
        path === "/api/v1/tax/summary/"
          ? json({ ...summary, realized: { short_term: zero, long_term: zero, total: zero }, ira: null })
          : path === "/api/v1/tax-harvests/"
            ? json([])
            : null,
      ),
    );
    renderPage();
    expect(await screen.findByText("No gains or losses realised in 2023")).toBeTruthy();
    expect(await screen.findByText("No harvests to review")).toBeTruthy();
    expect(screen.queryByTestId("ira-room")).toBeNull();
  });

  it("asks for confirmation before approving a harvest, then approves it", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(
      server((call, path) =>
        call.method === "POST" && path === "/api/v1/tax-harvests/5/approve/" ? json({ ...harvest, status: "executed" }) : null,
      ),
    );
    renderPage();
    const preview = await screen.findByTestId("harvest-5");
    fireEvent.click(within(preview).getByRole("button", { name: "Approve…" }));

    // The confirm step says what will move; nothing has been sent.
    const confirm = within(preview).getByRole("group", { name: "Confirm: sell VTI, buy SPY" });
    expect(confirm.textContent).toContain("Nothing moves until you confirm.");
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);

    fireEvent.click(within(confirm).getByRole("button", { name: "Confirm: sell VTI, buy SPY" }));
    await screen.findByText(/Approved: VTI will be sold and SPY bought at the next market close/);
    expect(calls.filter((c) => c.method === "POST").map((c) => c.url)).toEqual(["/api/v1/tax-harvests/5/approve/"]);
    expect(screen.queryByTestId("harvest-5")).toBeNull();
  });

  it("shows the server's message when the preview is stale (409), and reloads the list", async () => {
    document.cookie = "csrftoken=t; path=/";
    const stale = "Prices have moved since this preview; a fresh one will be proposed.";
    let harvestLists = 0;
    mockFetch(
      server((call, path) => {
        if (call.method === "POST" && path === "/api/v1/tax-harvests/5/approve/") return json({ detail: stale }, 409);
        if (path === "/api/v1/tax-harvests/" && call.url.includes("status=pending")) {
          harvestLists += 1;
          return json(harvestLists === 1 ? [harvest] : []);
        }
        return null;
      }),
    );
    renderPage();
    const preview = await screen.findByTestId("harvest-5");
    fireEvent.click(within(preview).getByRole("button", { name: "Approve…" }));
    fireEvent.click(within(preview).getByRole("button", { name: "Confirm: sell VTI, buy SPY" }));

    expect((await screen.findByText(stale)).closest("[role=alert]")).toBeTruthy();
    await vi.waitFor(() => expect(harvestLists).toBe(2));
    await screen.findByText("No harvests to review");
    expect(screen.getByText(stale)).toBeTruthy();
  });

  it("creates a tax report for the last year that is over, and shows why a request was refused", async () => {
    document.cookie = "csrftoken=t; path=/";
    let refuse = true;
    const { calls } = mockFetch(
      server((call, path) => {
        if (call.method !== "POST" || path !== "/api/v1/documents/") return null;
        if (refuse) {
          refuse = false;
          return json({ message: "Invalid input.", code: "invalid", extra: { fields: { year: ["2022 is being archived."] } } }, 400);
        }
        return json({ ...documents[0], id: 10, title: "Tax report 2022" }, 201);
      }),
    );
    renderPage();
    // 2023 is the year of the last close, not over yet: the report offered is 2022's.
    const button = await screen.findByRole("button", { name: "Create tax report for 2022" });
    expect(screen.getByText("A tax report covers a whole year, and 2023 isn't over yet.")).toBeTruthy();
    fireEvent.click(button);
    expect((await screen.findByText("2022 is being archived.")).closest("[role=alert]")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Create tax report for 2022" }));
    await screen.findByText("Your 2022 tax report is ready: Tax report 2022.");
    expect(calls.filter((c) => c.method === "POST").map((c) => c.body)).toEqual([
      { kind: "tax_report", year: 2022 },
      { kind: "tax_report", year: 2022 },
    ]);
  });

  it("creates an account's statement for a month, showing why the server refused a month not over", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(
      server((call, path) => {
        if (call.method !== "POST" || path !== "/api/v1/documents/") return null;
        const body = call.body as { month: number; year: number };
        if (body.month === 6 && body.year === 2023) {
          // As portfolios.documents.statement_period refuses it (market date 2023-06-09).
          return json(
            { message: "Invalid input.", code: "invalid", extra: { fields: { month: ["June 2023 is not over yet: choose an earlier month."] } } },
            400,
          );
        }
        return json(
          {
            ...documents[0],
            id: 12,
            kind: "statement",
            title: "Statement May 2023: House fund (account 4)",
            account: 4,
            period_start: "2023-05-01",
            period_end: "2023-05-31",
          },
          201,
        );
      }),
    );
    renderPage();
    const form = (await screen.findByRole("heading", { name: "Monthly statement" })).closest("form")!;
    const account = within(form).getByLabelText("Account") as HTMLSelectElement;
    const month = within(form).getByLabelText("Month") as HTMLSelectElement;
    const year = within(form).getByLabelText("Year") as HTMLSelectElement;
    // The last month that is over, before the market date of 2023-06-09: May 2023.
    expect([account.selectedOptions[0]!.textContent, month.selectedOptions[0]!.textContent, year.value]).toEqual([
      "House fund (Taxable)",
      "May",
      "2023",
    ]);
    expect(Array.from(account.options).map((o) => o.textContent)).toEqual(["House fund (Taxable)", "Roth IRA"]);

    fireEvent.change(month, { target: { value: "6" } });
    fireEvent.click(within(form).getByRole("button", { name: "Create statement" }));
    const problem = await within(form).findByText("June 2023 is not over yet: choose an earlier month.");
    expect(month.getAttribute("aria-describedby")).toContain(problem.id);
    expect(month.getAttribute("aria-invalid")).toBe("true");
    expect(within(form).getByRole("alert").textContent).toContain("Please correct the highlighted fields.");

    fireEvent.change(month, { target: { value: "5" } });
    fireEvent.click(within(form).getByRole("button", { name: "Create statement" }));
    await screen.findByText("The May 2023 statement of House fund is ready: Statement May 2023: House fund (account 4).");
    expect(within(form).queryByText(/is not over yet/)).toBeNull();
    expect(calls.filter((c) => c.method === "POST").map((c) => c.body)).toEqual([
      { kind: "statement", account: 4, year: 2023, month: 6 },
      { kind: "statement", account: 4, year: 2023, month: 5 },
    ]);
    // The list is fetched again, with the new statement in it (the refetch follows the message:
    // wait for it, as a slow machine may not have sent it yet).
    await vi.waitFor(() =>
      expect(calls.filter((c) => c.method === "GET" && c.url.startsWith("/api/v1/documents/")).length).toBe(2),
    );
  });
});
