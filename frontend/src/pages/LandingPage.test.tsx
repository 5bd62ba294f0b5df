import { render, screen } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";

import { App } from "../App";
import { AuthProvider } from "../auth";
import { json, mockFetch } from "../test/fetchMock";

describe("a first visit to / while logged out", () => {
  it("shows what Meridian is, the disclosures, and the ways in", async () => {
    mockFetch(() => json({ message: "no", code: "not_authenticated", extra: {} }, 401));
    render(
      <MemoryRouter initialEntries={["/"]}>
        <AuthProvider>
          <App />
        </AuthProvider>
      </MemoryRouter>,
    );

    expect(await screen.findByRole("heading", { name: "Invest towards what matters to you" })).toBeTruthy();
    expect(screen.getByText(/0\.25% a year/)).toBeTruthy();
    expect(screen.getByText(/paper trades/)).toBeTruthy();
    expect(screen.getByText(/not guarantees/)).toBeTruthy();
    expect(screen.getByRole("link", { name: "Sign up" }).getAttribute("href")).toBe("/signup");
    expect(screen.getByRole("link", { name: "Log in" }).getAttribute("href")).toBe("/login");
  });
});
