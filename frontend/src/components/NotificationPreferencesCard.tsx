import { useState } from "react";

import { notifications } from "../api/endpoints";
import type { ApiError } from "../api/client";
import type { NotificationPreference } from "../api/types";
import { asApiError, useAsync } from "../lib/useAsync";
import { Card, ErrorAlert, Loading } from "./ui";

/** Settings: which notifications also come by email. In the app (the bell) they all do. */
export function NotificationPreferencesCard() {
  const state = useAsync((signal) => notifications.preferences(signal), []);
  const [saving, setSaving] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  async function setEmail(preference: NotificationPreference, email: boolean) {
    setSaving(preference.kind);
    setError(null);
    try {
      state.setData(await notifications.setEmail(preference.kind, email));
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setSaving(null);
    }
  }

  return (
    <Card title={<span id="notifications">Notifications</span>}>
      <p className="muted small">
        Every notification appears under the bell at the top of the page. Choose which you also get by email.
      </p>
      {state.loading && !state.data ? <Loading /> : null}
      {state.error ? <ErrorAlert error={state.error} onRetry={state.reload} /> : null}
      <ErrorAlert error={error} />
      {state.data ? (
        <fieldset className="fieldset">
          <legend>Email me when</legend>
          {state.data.map((preference) => (
            <div key={preference.kind} className="check">
              <label>
                <input
                  type="checkbox"
                  checked={preference.email}
                  disabled={!preference.email_editable || saving !== null}
                  onChange={(e) => void setEmail(preference, e.target.checked)}
                />{" "}
                {preference.name}
              </label>
              {preference.email_editable ? null : (
                <span className="muted small"> · always emailed, for your security</span>
              )}
            </div>
          ))}
        </fieldset>
      ) : null}
    </Card>
  );
}
