import { act, fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { RETRY_ATTEMPTS } from "../api/client";
import type { AccountSummary } from "../api/types";
import { deferred, json, mockFetch } from "../test/fetchMock";
import type { Call } from "../test/fetchMock";
import { CashFlowForm } from "./CashFlowForm";

const account: AccountSummary = {
  id: 4,
  goal_id: 3,
  goal_name: "Sabbatical",
  currency: "USD",
  market_date: "2023-06-09",
  value: "4902.38",
  cash: "0.03",
  invested: "4902.35",
  level: 3,
  drift: 0.2,
  holdings: [],
  account_type: "taxable",
  lot_method: "tax_min",
};

function result(amount: string) {
  return {
    message: `Deposited ${amount} and invested it in 6 funds at the close.`,
    transaction: { id: 1, kind: "deposit", amount, market_date: "2023-06-09", description: "", created_at: "", entries: [] },
    account: { ...account, value: "5902.38" },
  };
}

function depositCalls(calls: Call[]) {
  return calls.filter((c) => c.method === "POST" && c.url.endsWith("/accounts/4/deposits/"));
}

describe("the deposit form", () => {
  it("sends one request when the button is pressed twice", async () => {
    document.cookie = "csrftoken=t; path=/";
    const pending = deferred<Response>();
    const { calls } = mockFetch(() => pending.promise);
    render(<CashFlowForm account={account} kind="deposit" />);

    fireEvent.change(screen.getByLabelText("Amount to deposit"), { target: { value: "1,000" } });
    const button = screen.getByRole("button", { name: "Deposit $1,000.00" });
    fireEvent.click(button);
    fireEvent.click(button);
    fireEvent.submit(button.closest("form")!);

    await screen.findByRole("button", { name: /Depositing/ });
    expect(screen.getByRole("button", { name: /Depositing/ })).toHaveProperty("disabled", true);
    expect(depositCalls(calls)).toHaveLength(1);
    expect(depositCalls(calls)[0]?.body).toEqual({ amount: "1000.00" });
    expect(depositCalls(calls)[0]?.headers["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/);

    await act(async () => pending.resolve(json(result("1000.00"), 201)));
    expect(await screen.findByRole("status")).toHaveProperty(
      "textContent",
      "Deposited 1000.00 and invested it in 6 funds at the close.",
    );
    expect(depositCalls(calls)).toHaveLength(1);
  });

  it("retries a failed deposit with the same Idempotency-Key, and uses a new one for the next", async () => {
    document.cookie = "csrftoken=t; path=/";
    let attempt = 0;
    const lost = 1 + RETRY_ATTEMPTS; // the client's own retries with backoff also fail
    const { calls } = mockFetch(() => {
      attempt += 1;
      if (attempt <= lost) throw new TypeError("Failed to fetch"); // the answer got lost
      return json(result("250.00"), 201);
    });
    render(<CashFlowForm account={account} kind="deposit" />);
    const input = screen.getByLabelText("Amount to deposit");

    fireEvent.change(input, { target: { value: "250" } });
    fireEvent.click(screen.getByRole("button", { name: "Deposit $250.00" }));
    expect(await screen.findByRole("alert", {}, { timeout: 8000 })).toHaveProperty(
      "textContent",
      expect.stringMatching(/couldn't reach/),
    );
    expect(depositCalls(calls)).toHaveLength(lost);

    fireEvent.click(screen.getByRole("button", { name: "Deposit $250.00" }));
    await screen.findByRole("status");

    fireEvent.change(input, { target: { value: "250" } });
    fireEvent.click(screen.getByRole("button", { name: "Deposit $250.00" }));
    await vi.waitFor(() => expect(depositCalls(calls)).toHaveLength(lost + 2));
    await screen.findByRole("status");

    const keys = depositCalls(calls).map((c) => c.headers["idempotency-key"]);
    expect(new Set(keys.slice(0, lost + 1)).size).toBe(1); // every retry is the same payment
    expect(keys[lost + 1]).not.toBe(keys[0]); // after success, a new payment
  }, 15_000);

  it("makes a new key when the amount changes after a failure", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(() =>
      json({ message: "Not enough cash.", code: "insufficient_funds", extra: {} }, 400),
    );
    render(<CashFlowForm account={account} kind="withdrawal" />);
    const input = screen.getByLabelText("Amount to withdraw");

    fireEvent.change(input, { target: { value: "100" } });
    fireEvent.click(screen.getByRole("button", { name: "Withdraw $100.00" }));
    await screen.findByRole("alert");
    fireEvent.change(input, { target: { value: "90" } });
    fireEvent.click(screen.getByRole("button", { name: "Withdraw $90.00" }));
    await screen.findByRole("button", { name: "Withdraw $90.00" });

    const keys = calls.map((c) => c.headers["idempotency-key"]);
    expect(keys).toHaveLength(2);
    expect(keys[1]).not.toBe(keys[0]);
  });

  it("checks the amount before asking the server", async () => {
    const { calls } = mockFetch(() => json({}, 201));
    render(<CashFlowForm account={account} kind="withdrawal" />);

    fireEvent.change(screen.getByLabelText("Amount to withdraw"), { target: { value: "5000" } });
    fireEvent.click(screen.getByRole("button", { name: "Withdraw $5,000.00" }));

    expect(await screen.findByText("You can withdraw up to $4,902.38.")).toBeTruthy();
    expect(screen.getByLabelText("Amount to withdraw").getAttribute("aria-invalid")).toBe("true");
    expect(calls).toHaveLength(0);
  });

  it("shows the server's field errors next to the field", async () => {
    document.cookie = "csrftoken=t; path=/";
    mockFetch(() =>
      json({ message: "Invalid input.", code: "invalid", extra: { fields: { amount: ["Slightly less, please: prices moved."] } } }, 400),
    );
    render(<CashFlowForm account={account} kind="deposit" />);

    fireEvent.change(screen.getByLabelText("Amount to deposit"), { target: { value: "2000" } });
    fireEvent.click(screen.getByRole("button", { name: /Deposit \$2,000\.00/ }));

    const message = await screen.findByText("Slightly less, please: prices moved.");
    const input = screen.getByLabelText("Amount to deposit");
    expect(input.getAttribute("aria-describedby")).toContain(message.id);
    expect(screen.getByRole("alert").textContent).toBe("Please correct the highlighted fields.");
  });

  it.each([
    ["", "Enter an amount."],
    ["twelve", "Enter a number, e.g. 1000 or 250.50."],
    ["0", "Enter an amount of at least $0.01."],
    ["0.001", "Enter whole cents: at most 2 decimal places."],
    ["12.345", "Enter whole cents: at most 2 decimal places."],
    ["9999999999.99", "Enter an amount of at most $10,000,000.00."],
    ["10,000,000.01", "Enter an amount of at most $10,000,000.00."],
  ])("refuses %j in the browser with a message of its own", async (typed, problem) => {
    const { calls } = mockFetch(() => json({}, 201));
    render(<CashFlowForm account={account} kind="deposit" />);

    fireEvent.change(screen.getByLabelText("Amount to deposit"), { target: { value: typed } });
    fireEvent.submit(screen.getByLabelText("Amount to deposit").closest("form")!);

    expect(await screen.findByText(problem)).toBeTruthy();
    expect(calls).toHaveLength(0);
  });

  it("shows the result as money, with the exact units one click away", async () => {
    document.cookie = "csrftoken=t; path=/";
    mockFetch(() =>
      json(
        {
          message: "Withdrew $1,234.56. Sold 0.1235 VTI at the close to raise it.",
          transaction: {
            id: 2,
            kind: "withdrawal",
            amount: "-1234.56",
            market_date: "2023-06-09",
            description: "",
            created_at: "",
            entries: [
              { ticker: null, quantity: "1234.56", price: null },
              { ticker: "VTI", quantity: "-0.12345678", price: "200.0000" },
            ],
          },
          account,
        },
        201,
      ),
    );
    render(<CashFlowForm account={account} kind="withdrawal" />);

    fireEvent.change(screen.getByLabelText("Amount to withdraw"), { target: { value: "1234.56" } });
    fireEvent.click(screen.getByRole("button", { name: "Withdraw $1,234.56" }));

    expect((await screen.findByRole("status")).textContent).toBe(
      "Withdrew $1,234.56. Sold 0.1235 VTI at the close to raise it.",
    );
    const details = screen.getByText("Trade details").closest("details")!;
    expect(details.open).toBe(false);
    expect(details.textContent).toContain("-0.1235");
    expect(details.textContent).toContain("-0.12345678");
  });

  it("says how a withdrawal from an IRA is taxed: the tax note, once", async () => {
    document.cookie = "csrftoken=t; path=/";
    // As portfolios.services.cash_flows.withdrawal_make answers for a traditional IRA of a client
    // under 59½: the note is on the transaction, and the message ends with it.
    const note = "Taxed as ordinary income; before age 59½ an extra 10% penalty may apply.";
    const ira = { ...account, account_type: "traditional_ira" as const };
    const answer = (message: string) =>
      json(
        {
          message,
          transaction: {
            id: 3,
            kind: "withdrawal",
            amount: "-100.00",
            market_date: "2023-06-09",
            description: "Withdrawal of $100.00",
            tax_note: note,
            created_at: "",
            entries: [],
          },
          account: ira,
        },
        201,
      );
    let calls = 0;
    mockFetch(() => {
      calls += 1;
      // The second answer's message leaves the note out: the form adds it.
      return answer(calls === 1 ? `Withdrew $100.00. ${note}` : "Withdrew $100.00.");
    });
    render(<CashFlowForm account={ira} kind="withdrawal" />);

    fireEvent.change(screen.getByLabelText("Amount to withdraw"), { target: { value: "100" } });
    fireEvent.click(screen.getByRole("button", { name: "Withdraw $100.00" }));
    expect((await screen.findByRole("status")).textContent).toBe(`Withdrew $100.00. ${note}`);

    fireEvent.change(screen.getByLabelText("Amount to withdraw"), { target: { value: "100" } });
    fireEvent.click(screen.getByRole("button", { name: "Withdraw $100.00" }));
    await vi.waitFor(() => expect(calls).toBe(2));
    expect((await screen.findByRole("status")).textContent).toBe(`Withdrew $100.00. ${note}`);
  });
});

describe("a withdrawal held for review (202)", () => {
  it("shows the server's message as held, neither an error nor done, and passes the result on", async () => {
    document.cookie = "csrftoken=t; path=/";
    // As portfolios.services.holds.held_message words it; the view answers 202 with no transaction.
    const message =
      "Your withdrawal of $3,000.00 is held for review: for your security, an advisor checks it before any money " +
      "leaves. You will be notified when it is released or rejected, within 5 days.";
    const { calls } = mockFetch(() => json({ message, transaction: null, hold: 17, account }, 202));
    const onDone = vi.fn();
    render(<CashFlowForm account={account} kind="withdrawal" onDone={onDone} />);

    fireEvent.change(screen.getByLabelText("Amount to withdraw"), { target: { value: "3000" } });
    fireEvent.click(screen.getByRole("button", { name: "Withdraw $3,000.00" }));

    const held = await screen.findByTestId("withdrawal-held");
    expect(held.getAttribute("role")).toBe("status");
    expect(held.className).toContain("alert-info");
    expect(held.textContent).toBe(`Held for review. ${message}`);
    expect(screen.queryByRole("alert")).toBeNull();
    expect(document.querySelector(".alert-success")).toBeNull();
    expect(screen.queryByText("Trade details")).toBeNull();
    expect(onDone).toHaveBeenCalledWith(expect.objectContaining({ hold: 17, transaction: null }));
    expect(calls.filter((c) => c.method === "POST")[0]?.body).toEqual({ amount: "3000.00" });
    // The amount field is cleared: the request was accepted, so resubmitting would be a new withdrawal.
    expect((screen.getByLabelText("Amount to withdraw") as HTMLInputElement).value).toBe("");
  });
});
