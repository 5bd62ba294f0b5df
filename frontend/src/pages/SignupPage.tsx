import { useState } from "react";
import type { FormEvent } from "react";
import { Link } from "react-router";

import type { ApiError } from "../api/client";
import { useAuth } from "../auth";
import { ErrorAlert, StatusMessage, SubmitButton, TextField } from "../components/ui";
import { asApiError } from "../lib/useAsync";
import { useTitle } from "../lib/useTitle";
import { AuthShell } from "./AuthShell";

export function SignupPage() {
  useTitle("Create your account");
  const { register } = useAuth();
  const [form, setForm] = useState({ first_name: "", last_name: "", email: "", password: "" });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [checkInbox, setCheckInbox] = useState<string | null>(null);

  const set = (field: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [field]: e.target.value }));

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const user = await register(form);
      if (!user) {
        // Not signed in (the address may already have an account): the email says what next.
        setCheckInbox(form.email);
        setBusy(false);
      }
    } catch (err) {
      setError(asApiError(err));
      setBusy(false);
    }
  }

  return (
    <AuthShell
      title="Create your account"
      footer={
        <p>
          Already have an account? <Link to="/login">Log in</Link>
        </p>
      }
    >
      <p className="muted">It takes about five minutes: your profile, a short risk questionnaire and your first goal.</p>
      {checkInbox ? (
        <StatusMessage tone="info">
          We sent an email to {checkInbox}. Follow it to continue, or <Link to="/login">log in</Link>.
        </StatusMessage>
      ) : null}
      <ErrorAlert error={error} />
      <form onSubmit={onSubmit} noValidate className="form">
        <div className="grid-2">
          <TextField
            label="First name"
            name="first_name"
            autoComplete="given-name"
            value={form.first_name}
            onChange={set("first_name")}
            errors={error?.fields.first_name}
          />
          <TextField
            label="Last name"
            name="last_name"
            autoComplete="family-name"
            value={form.last_name}
            onChange={set("last_name")}
            errors={error?.fields.last_name}
          />
        </div>
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={form.email}
          onChange={set("email")}
          errors={error?.fields.email}
        />
        <TextField
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          minLength={10}
          hint="At least 10 characters; not a common password."
          value={form.password}
          onChange={set("password")}
          errors={error?.fields.password}
        />
        <SubmitButton busy={busy} busyLabel="Creating your account…" className="btn btn-primary btn-block">
          Create account
        </SubmitButton>
      </form>
    </AuthShell>
  );
}
