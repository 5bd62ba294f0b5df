import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";

import { AuthProvider } from "../auth";
import { PasswordChangeForm } from "../components/SecurityCard";
import { json, mockFetch } from "../test/fetchMock";
import type { Call } from "../test/fetchMock";
import { LoginPage } from "./LoginPage";
import { ForgotPasswordPage, ResetPasswordPage } from "./PasswordResetPages";

const user = {
  id: 1,
  email: "ada@example.test",
  first_name: "Ada",
  last_name: "",
  role: "client",
  client_id: 1,
  email_verified: false,
  mfa_enabled: true,
  mfa_enrolment_required: false,
};

const posted = (calls: Call[], path: string) =>
  calls.filter((c) => c.method === "POST" && c.url.endsWith(path));

describe("the login page", () => {
  it("asks for a code when two-factor sign-in is on, then finishes with it", async () => {
    document.cookie = "csrftoken=t; path=/";
    let signedIn = false;
    const { calls } = mockFetch((call) => {
      if (call.url.endsWith("/auth/me/"))
        return signedIn ? json(user) : json({ message: "no", code: "not_authenticated", extra: {} }, 401);
      if (call.url.endsWith("/auth/login/")) return json({ mfa_required: true, mfa_token: "signed-token" });
      if (call.url.endsWith("/auth/mfa/verify/")) {
        signedIn = true;
        return json(user);
      }
      if (call.url.endsWith("/risk-profile/")) return json({}, 200);
      return json({}, 404);
    });
    render(
      <MemoryRouter>
        <AuthProvider>
          <LoginPage />
        </AuthProvider>
      </MemoryRouter>,
    );

    fireEvent.change(await screen.findByLabelText("Email"), { target: { value: user.email } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "a long passphrase" } });
    fireEvent.click(screen.getByRole("button", { name: "Log in" }));

    const codeField = await screen.findByLabelText("Authentication code");
    fireEvent.change(codeField, { target: { value: "123456" } });
    fireEvent.click(screen.getByRole("button", { name: "Verify" }));

    await waitFor(() => expect(posted(calls, "/auth/mfa/verify/")).toHaveLength(1));
    expect(posted(calls, "/auth/mfa/verify/")[0]?.body).toEqual({ mfa_token: "signed-token", code: "123456" });
  });

  it("links to the forgotten-password flow", async () => {
    mockFetch(() => json({ message: "no", code: "not_authenticated", extra: {} }, 401));
    render(
      <MemoryRouter>
        <AuthProvider>
          <LoginPage />
        </AuthProvider>
      </MemoryRouter>,
    );
    expect(await screen.findByRole("link", { name: "Forgot your password?" })).toHaveProperty(
      "href",
      expect.stringContaining("/forgot-password"),
    );
  });
});

describe("the password reset pages", () => {
  it("requests a link and shows the same answer whatever the address", async () => {
    document.cookie = "csrftoken=t; path=/";
    const message = "If an account has this address, we sent it a link to reset the password.";
    const { calls } = mockFetch(() => json({ message }, 202));
    render(
      <MemoryRouter>
        <ForgotPasswordPage />
      </MemoryRouter>,
    );
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "who@example.test" } });
    fireEvent.click(screen.getByRole("button", { name: "Email me a reset link" }));

    expect(await screen.findByText(message)).toBeTruthy();
    expect(posted(calls, "/auth/password/reset/")[0]?.body).toEqual({ email: "who@example.test" });
  });

  it("sends the uid and token from the link with the new password", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(() => json({ message: "Your password was changed. Log in with the new one." }));
    render(
      <MemoryRouter initialEntries={["/reset-password?uid=MQ&token=abc-123"]}>
        <ResetPasswordPage />
      </MemoryRouter>,
    );
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "a brand new passphrase" } });
    fireEvent.click(screen.getByRole("button", { name: "Set new password" }));

    expect(await screen.findByText(/Your password was changed/)).toBeTruthy();
    expect(posted(calls, "/auth/password/reset/confirm/")[0]?.body).toEqual({
      uid: "MQ",
      token: "abc-123",
      new_password: "a brand new passphrase",
    });
  });

  it("explains a used or expired link", async () => {
    document.cookie = "csrftoken=t; path=/";
    mockFetch(() =>
      json({ message: "This password-reset link is invalid, expired or already used.", code: "link_invalid", extra: {} }, 400),
    );
    render(
      <MemoryRouter initialEntries={["/reset-password?uid=MQ&token=old"]}>
        <ResetPasswordPage />
      </MemoryRouter>,
    );
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "a brand new passphrase" } });
    fireEvent.click(screen.getByRole("button", { name: "Set new password" }));

    expect(await screen.findByText(/already used/)).toBeTruthy();
    expect(screen.getByRole("link", { name: "Ask for a new link" })).toBeTruthy();
  });
});

describe("the change-password form", () => {
  it("shows a wrong current password next to the form", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch(() =>
      json({ message: "The current password is incorrect.", code: "current_password_incorrect", extra: {} }, 401),
    );
    render(<PasswordChangeForm />);
    fireEvent.change(screen.getByLabelText("Current password"), { target: { value: "nope" } });
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "a brand new passphrase" } });
    fireEvent.click(screen.getByRole("button", { name: "Change password" }));

    expect(await screen.findByText("The current password is incorrect.")).toBeTruthy();
    expect(posted(calls, "/auth/password/change/")[0]?.body).toEqual({
      current_password: "nope",
      new_password: "a brand new passphrase",
    });
  });
});
