// Settings: whether tax-loss harvests execute as proposed (PATCH clients/me/ {harvest_auto}) or
// each waits for the client's approval in the Tax centre. Harvesting only happens in taxable
// accounts, so the switch shows only to a client who has one.
import { useEffect, useId, useState } from "react";

import type { ApiError } from "../api/client";
import { clients, portfolio } from "../api/endpoints";
import { asApiError, useAsync } from "../lib/useAsync";
import { Card, ErrorAlert, StatusMessage } from "./ui";

export function HarvestAutoCard() {
  const switchId = useId();
  const state = useAsync(async (signal) => {
    const [profile, accounts] = await Promise.all([clients.me(signal), portfolio.accounts(signal)]);
    return {
      harvestAuto: profile.harvest_auto ?? false,
      hasTaxable: accounts.some((a) => a.account_type === "taxable"),
    };
  }, []);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const shown = Boolean(state.data?.hasTaxable);

  // Linked to from the Tax centre (/settings#tax-harvesting): the card appears after the page,
  // so the page's own scroll to the hash finds nothing; scroll once it is here.
  useEffect(() => {
    if (shown && window.location.hash === "#tax-harvesting") {
      document.getElementById("tax-harvesting")?.scrollIntoView?.({ block: "start" });
    }
  }, [shown]);

  // Nothing to switch without a taxable account; nothing shown until that is known.
  if (state.error) {
    return (
      <Card title="Tax-loss harvesting">
        <ErrorAlert error={state.error} onRetry={state.reload} />
      </Card>
    );
  }
  if (!state.data?.hasTaxable) return null;
  const on = state.data.harvestAuto;

  async function setAuto(next: boolean) {
    setSaving(true);
    setError(null);
    setSaved(null);
    try {
      const profile = await clients.update({ harvest_auto: next });
      const now = profile.harvest_auto ?? next;
      state.setData((d) => ({ ...d!, harvestAuto: now }));
      setSaved(now ? "Automatic tax-loss harvesting is on." : "Automatic tax-loss harvesting is off.");
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setSaving(false);
    }
  }

  return (
    <Card title={<span id="tax-harvesting">Tax-loss harvesting</span>}>
      <div className="switch-row">
        <input
          id={switchId}
          type="checkbox"
          role="switch"
          className="switch"
          checked={on}
          disabled={saving}
          aria-describedby={`${switchId}-hint`}
          onChange={(e) => void setAuto(e.target.checked)}
        />
        <label htmlFor={switchId}>Automatic tax-loss harvesting</label>
      </div>
      <p id={`${switchId}-hint`} className="field-hint" data-testid="harvest-auto-hint">
        {on
          ? "On: harvests in your taxable accounts execute as soon as we propose them, at that day's close; each one is listed under Taxes."
          : "Off: each harvest we propose waits for your approval under Taxes; nothing is sold until you approve it."}
      </p>
      <ErrorAlert error={error} />
      {saved ? <StatusMessage>{saved}</StatusMessage> : null}
    </Card>
  );
}
