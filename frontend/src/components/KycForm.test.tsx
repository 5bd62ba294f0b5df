import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it } from "vitest";

import type { ClientProfile } from "../api/types";
import { json, mockFetch } from "../test/fetchMock";
import { KYC_SECTIONS, KycForm, kycInitialValues, kycPayload } from "./KycForm";
import type { KycValues } from "./KycForm";

// A brand-new sign-up: only the names from the sign-up form are saved.
const fresh = {
  id: 1,
  email: "jo@example.test",
  first_name: "Jordan",
  last_name: "Rivera",
  tax_id_masked: "",
  kyc_complete: false,
  kyc_missing: [{ field: "date_of_birth", label: "Date of birth" }],
} as unknown as ClientProfile;

const TYPED: Partial<KycValues> = {
  date_of_birth: "1988-04-12",
  marital_status: "married",
  dependents: "1",
  education_level: "bachelors",
  address_line1: "500 Market Street",
  city: "San Francisco",
  postal_code: "94105",
  employment_status: "employed",
  annual_income: "120000",
  net_worth: "250000",
  liquid_net_worth: "80000",
  tax_id: "123-45-6789",
  investment_experience: "moderate",
  objective: "growth",
  time_horizon: "over_20",
  liquidity_needs: "low",
};

describe("the KYC payload", () => {
  it("sends the pre-filled country, which is not saved yet, with what the client typed", () => {
    const values = { ...kycInitialValues(fresh), ...TYPED };

    const payload = kycPayload(values, fresh) as Record<string, unknown>;

    expect(payload.country).toBe("US");
    expect(payload.date_of_birth).toBe("1988-04-12");
    expect(payload).not.toHaveProperty("first_name"); // saved at sign-up, unchanged
  });
});

function Steps({ onSaved }: { onSaved: (p: ClientProfile) => void }) {
  const [section, setSection] = useState(0);
  const [values, setValues] = useState(() => kycInitialValues(fresh));
  return (
    <KycForm
      key={section}
      profile={fresh}
      section={section}
      values={values}
      onValuesChange={setValues}
      onNext={() => setSection((n) => n + 1)}
      onBack={section > 0 ? () => setSection((n) => n - 1) : undefined}
      submitLabel="Save and continue"
      onSaved={onSaved}
    />
  );
}

function fill(label: string | RegExp, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

describe("the KYC form in short steps", () => {
  it("keeps answers on Back, and a new client leaving pre-filled fields as they are completes KYC", async () => {
    document.cookie = "csrftoken=t; path=/";
    const { calls } = mockFetch((call) =>
      call.method === "PATCH"
        ? json({ ...fresh, ...(call.body as object), kyc_complete: true, kyc_missing: [] })
        : json({}, 404),
    );
    let saved: ClientProfile | null = null;
    render(<Steps onSaved={(p) => (saved = p)} />);
    expect(KYC_SECTIONS).toHaveLength(4);

    // About you: the names are pre-filled and left alone.
    expect((screen.getByLabelText(/^First name/) as HTMLInputElement).value).toBe("Jordan");
    fill(/^Date of birth/, "1988-04-12");
    fill(/^Marital status/, "married");
    fill(/^Dependents/, "1");
    fill(/^Education/, "bachelors");
    fireEvent.click(screen.getByRole("button", { name: "Next" }));

    // Address: back and forth keeps what was typed; the country stays "US".
    fill(/^Street address/, "500 Market Street");
    fireEvent.click(screen.getByRole("button", { name: "Back" }));
    expect((screen.getByLabelText(/^Date of birth/) as HTMLInputElement).value).toBe("1988-04-12");
    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect((screen.getByLabelText(/^Street address/) as HTMLInputElement).value).toBe("500 Market Street");
    expect((screen.getByLabelText(/^Country/) as HTMLInputElement).value).toBe("US");
    fill(/^City/, "San Francisco");
    fill(/^Postal code/, "94105");
    fireEvent.click(screen.getByRole("button", { name: "Next" }));

    fill(/^Employment/, "employed");
    fill(/^Annual income/, "120000");
    fill(/^Net worth/, "250000");
    fill(/^Liquid net worth/, "80000");
    fill(/^Tax ID/, "123-45-6789");
    fireEvent.click(screen.getByRole("button", { name: "Next" }));

    fill(/^Investment experience/, "moderate");
    fill(/^Main objective/, "growth");
    fill(/^Time horizon/, "over_20");
    fill(/^Liquidity needs/, "low");
    fireEvent.click(screen.getByRole("button", { name: "Save and continue" }));

    await waitFor(() => expect(saved).not.toBeNull());
    const patches = calls.filter((c) => c.method === "PATCH");
    expect(patches).toHaveLength(1);
    expect(patches[0]?.body).toMatchObject({ country: "US", date_of_birth: "1988-04-12", address_line1: "500 Market Street" });
    expect(saved!.kyc_complete).toBe(true);
  });

  it("does not move on while the screen's required fields are empty", () => {
    render(<Steps onSaved={() => {}} />);
    fireEvent.click(screen.getByRole("button", { name: "Next" }));
    expect(screen.getByLabelText(/^Date of birth/)).toBeTruthy();
    expect(screen.getByText("Please complete the highlighted fields.")).toBeTruthy();
  });
});
