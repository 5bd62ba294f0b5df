import { useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../api/client";
import type { FieldErrors } from "../api/client";
import { clients } from "../api/endpoints";
import type { ClientProfile, ClientUpdate } from "../api/types";
import {
  EDUCATION_LEVEL,
  EMPLOYMENT_STATUS,
  INVESTMENT_EXPERIENCE,
  LIQUIDITY_NEEDS,
  MARITAL_STATUS,
  OBJECTIVE,
  OCCUPATION_CATEGORY,
  TAX_FILING_STATUS,
  TIME_HORIZON,
} from "../lib/choices";
import { asApiError } from "../lib/useAsync";
import { ErrorAlert, MoneyField, SelectField, StatusMessage, SubmitButton, TextField } from "./ui";

export type KycValues = Record<
  | "first_name"
  | "last_name"
  | "date_of_birth"
  | "phone"
  | "address_line1"
  | "address_line2"
  | "city"
  | "region"
  | "postal_code"
  | "country"
  | "tax_id"
  | "employment_status"
  | "occupation_category"
  | "annual_income"
  | "net_worth"
  | "liquid_net_worth"
  | "dependents"
  | "marital_status"
  | "education_level"
  | "tax_filing_status"
  | "investment_experience"
  | "objective"
  | "time_horizon"
  | "liquidity_needs",
  string
>;

type Values = KycValues;
type Field = keyof Values;

const MONEY_FIELDS: Field[] = ["annual_income", "net_worth", "liquid_net_worth"];

// What KYC needs (advisor/services.py KYC_REQUIRED_FIELDS) plus education, which the risk
// model reads for its second opinion.
const REQUIRED: Field[] = [
  "first_name",
  "last_name",
  "date_of_birth",
  "address_line1",
  "city",
  "postal_code",
  "country",
  "employment_status",
  "annual_income",
  "net_worth",
  "liquid_net_worth",
  "dependents",
  "marital_status",
  "education_level",
  "investment_experience",
  "objective",
  "time_horizon",
  "liquidity_needs",
];

/** What the form starts with: the saved profile, and country "US" when none is saved yet. */
export function kycInitialValues(profile: ClientProfile): Values {
  const saved = savedValues(profile);
  return { ...saved, country: saved.country || "US" };
}

/** The profile as saved, field by field (no defaults): what counts as "unchanged". */
function savedValues(profile: ClientProfile): Values {
  // The schema marks blank and defaulted model fields optional: absent reads as empty.
  const text = (v: string | number | null | undefined) => (v === null || v === undefined ? "" : String(v));
  return {
    first_name: text(profile.first_name),
    last_name: text(profile.last_name),
    date_of_birth: text(profile.date_of_birth),
    phone: text(profile.phone),
    address_line1: text(profile.address_line1),
    address_line2: text(profile.address_line2),
    city: text(profile.city),
    region: text(profile.region),
    postal_code: text(profile.postal_code),
    country: text(profile.country),
    tax_id: "",
    employment_status: text(profile.employment_status),
    occupation_category: text(profile.occupation_category),
    annual_income: text(profile.annual_income),
    net_worth: text(profile.net_worth),
    liquid_net_worth: text(profile.liquid_net_worth),
    dependents: text(profile.dependents),
    marital_status: text(profile.marital_status),
    education_level: text(profile.education_level),
    tax_filing_status: text(profile.tax_filing_status),
    investment_experience: text(profile.investment_experience),
    objective: text(profile.objective),
    time_horizon: text(profile.time_horizon),
    liquidity_needs: text(profile.liquidity_needs),
  };
}

const MONEY = /^-?\d{1,12}(\.\d{1,2})?$/;

/** Check locally what the server would refuse anyway, so errors show before a round trip. */
function validate(values: Values, needTaxId: boolean, only?: readonly Field[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const field of REQUIRED) {
    if (!values[field].trim()) errors[field] = ["Required."];
  }
  if (needTaxId && !values.tax_id.trim()) errors.tax_id = ["Required."];
  if (only) {
    const local = validateFormat(values);
    for (const key of Object.keys(errors)) if (!only.includes(key as Field)) delete errors[key];
    for (const [key, value] of Object.entries(local)) if (only.includes(key as Field)) errors[key] = value;
    return errors;
  }
  return { ...errors, ...validateFormat(values) };
}

function validateFormat(values: Values): FieldErrors {
  const errors: FieldErrors = {};
  for (const field of MONEY_FIELDS) {
    const v = values[field].replace(/[,\s$]/g, "");
    if (v && !MONEY.test(v)) errors[field] = ["Enter an amount in dollars, e.g. 85000."];
    if (v.startsWith("-") && field !== "net_worth") errors[field] = ["Cannot be negative."];
  }
  if (values.dependents && !/^\d{1,2}$/.test(values.dependents)) {
    errors.dependents = ["Enter a whole number."];
  }
  if (values.country && !/^[A-Za-z]{2}$/.test(values.country.trim())) {
    errors.country = ["Use a two-letter country code, e.g. US."];
  }
  return errors;
}

/** The fields that differ from what is saved. Pre-filled defaults (country "US") are not saved
 * yet, so they count as changes and are sent: leaving them as they are still completes KYC. */
export function kycPayload(values: Values, profile: ClientProfile): ClientUpdate {
  const before = savedValues(profile);
  const payload: Record<string, unknown> = {};
  for (const [field, raw] of Object.entries(values) as [Field, string][]) {
    const value = raw.trim();
    if (field === "tax_id") {
      if (value) payload.tax_id = value;
      continue;
    }
    if (value === before[field].trim()) continue;
    if (MONEY_FIELDS.includes(field)) payload[field] = value ? value.replace(/[,\s$]/g, "") : null;
    else if (field === "dependents") payload[field] = value ? Number(value) : null;
    else if (field === "date_of_birth") payload[field] = value || null;
    else if (field === "country") payload[field] = value.toUpperCase();
    else payload[field] = value;
  }
  return payload as ClientUpdate;
}

/** The form's screens: onboarding shows one at a time, Settings all at once. */
export const KYC_SECTIONS: readonly { title: string; fields: readonly Field[] }[] = [
  {
    title: "About you",
    fields: ["first_name", "last_name", "date_of_birth", "phone", "marital_status", "dependents", "education_level"],
  },
  {
    title: "Address",
    fields: ["address_line1", "address_line2", "city", "region", "postal_code", "country"],
  },
  {
    title: "Work and finances",
    fields: [
      "employment_status",
      "occupation_category",
      "annual_income",
      "net_worth",
      "liquid_net_worth",
      "tax_filing_status",
      "tax_id",
    ],
  },
  {
    title: "Investing",
    fields: ["investment_experience", "objective", "time_horizon", "liquidity_needs"],
  },
];

const LABELS: Record<Field, string> = {
  first_name: "First name",
  last_name: "Last name",
  date_of_birth: "Date of birth",
  phone: "Phone",
  address_line1: "Street address",
  address_line2: "Apartment, suite",
  city: "City",
  region: "State / region",
  postal_code: "Postal code",
  country: "Country",
  tax_id: "Tax ID (SSN or ITIN)",
  employment_status: "Employment",
  occupation_category: "Occupation",
  annual_income: "Annual income",
  net_worth: "Net worth",
  liquid_net_worth: "Liquid net worth",
  dependents: "Dependents",
  marital_status: "Marital status",
  education_level: "Education",
  tax_filing_status: "Tax filing status",
  investment_experience: "Investment experience",
  objective: "Main objective",
  time_horizon: "Time horizon",
  liquidity_needs: "Liquidity needs",
};

/** "KYC: Incomplete" says nothing by itself: name what is left to fill in. */
export function KycMissing({ profile }: { profile: ClientProfile }) {
  if (profile.kyc_complete || !profile.kyc_missing?.length) return null;
  return (
    <p className="small" data-testid="kyc-missing">
      Still needed to complete your profile: {profile.kyc_missing.map((m) => m.label).join(", ")}.
    </p>
  );
}

export function KycForm({
  profile,
  onSaved,
  submitLabel = "Save profile",
  section,
  values: controlled,
  onValuesChange,
  onNext,
  onBack,
}: {
  profile: ClientProfile;
  onSaved: (profile: ClientProfile) => void;
  submitLabel?: string;
  /** Show one screen of KYC_SECTIONS; its last one saves. Omitted: every section, one save. */
  section?: number;
  /** Values held by the parent, so moving between screens keeps every answer. */
  values?: Values;
  onValuesChange?: (values: Values) => void;
  onNext?: () => void;
  onBack?: () => void;
}) {
  const [own, setOwn] = useState<Values>(() => kycInitialValues(profile));
  const values = controlled ?? own;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  const needTaxId = !profile.tax_id_masked;
  const sections = section === undefined ? KYC_SECTIONS : KYC_SECTIONS.slice(section, section + 1);
  const last = section === undefined || section === KYC_SECTIONS.length - 1;

  function update(next: Values) {
    if (controlled) onValuesChange?.(next);
    else setOwn(next);
  }

  const bind = (field: Field) => ({
    name: field,
    value: values[field],
    onChange: (e: { target: { value: string } }) => {
      setSaved(false);
      update({ ...values, [field]: e.target.value });
    },
    errors: error?.fields[field],
    required: REQUIRED.includes(field) || undefined,
  });

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    if (!last) {
      const local = validate(values, needTaxId, sections.flatMap((s) => s.fields));
      if (Object.keys(local).length) {
        setError(new ApiError(400, "Please complete the highlighted fields.", "invalid", { fields: local }));
        return;
      }
      setError(null);
      onNext?.();
      return;
    }
    const local = validate(values, needTaxId);
    if (Object.keys(local).length) {
      const shown = sections.flatMap((s) => s.fields);
      const elsewhere = Object.keys(local).filter((f) => !shown.includes(f as Field));
      const message = elsewhere.length
        ? `Please go back and complete: ${elsewhere.map((f) => LABELS[f as Field]).join(", ")}.`
        : "Please complete the highlighted fields.";
      setError(new ApiError(400, message, "invalid", { fields: local }));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const updated = await clients.update(kycPayload(values, profile));
      update(kycInitialValues(updated));
      setSaved(true);
      onSaved(updated);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  }

  const show = (title: string) => sections.some((s) => s.title === title);

  return (
    <form onSubmit={onSubmit} noValidate className="form">
      <ErrorAlert error={error} />
      {show("About you") ? (
        <fieldset>
          <legend>About you</legend>
          <div className="grid-2">
            <TextField label="First name" autoComplete="given-name" {...bind("first_name")} />
            <TextField label="Last name" autoComplete="family-name" {...bind("last_name")} />
            <TextField label="Date of birth" type="date" autoComplete="bday" {...bind("date_of_birth")} />
            <TextField
              label="Phone (optional)"
              type="tel"
              autoComplete="tel"
              placeholder="+14155550100"
              hint="International format."
              {...bind("phone")}
            />
            <SelectField label="Marital status" choices={MARITAL_STATUS} {...bind("marital_status")} />
            <TextField
              label="Dependents"
              inputMode="numeric"
              hint="People who rely on your income."
              {...bind("dependents")}
            />
            <SelectField label="Education" choices={EDUCATION_LEVEL} {...bind("education_level")} />
          </div>
        </fieldset>
      ) : null}

      {show("Address") ? (
        <fieldset>
          <legend>Address</legend>
          <div className="grid-2">
            <TextField label="Street address" autoComplete="address-line1" className="span-2" {...bind("address_line1")} />
            <TextField label="Apartment, suite (optional)" autoComplete="address-line2" className="span-2" {...bind("address_line2")} />
            <TextField label="City" autoComplete="address-level2" {...bind("city")} />
            <TextField label="State / region" autoComplete="address-level1" {...bind("region")} />
            <TextField label="Postal code" autoComplete="postal-code" {...bind("postal_code")} />
            <TextField
              label="Country"
              autoComplete="country"
              maxLength={2}
              hint="Two-letter code, e.g. US."
              {...bind("country")}
            />
          </div>
        </fieldset>
      ) : null}

      {show("Work and finances") ? (
        <fieldset>
          <legend>Work and finances</legend>
          <div className="grid-2">
            <SelectField label="Employment" choices={EMPLOYMENT_STATUS} {...bind("employment_status")} />
            <SelectField label="Occupation (optional)" choices={OCCUPATION_CATEGORY} {...bind("occupation_category")} />
            <MoneyField label="Annual income" {...bind("annual_income")} />
            <MoneyField label="Net worth" hint="Everything you own minus what you owe; may be negative." {...bind("net_worth")} />
            <MoneyField label="Liquid net worth" hint="Cash and investments you could sell within days." {...bind("liquid_net_worth")} />
            <SelectField label="Tax filing status (optional)" choices={TAX_FILING_STATUS} {...bind("tax_filing_status")} />
            <TextField
              label="Tax ID (SSN or ITIN)"
              autoComplete="off"
              hint={
                profile.tax_id_masked
                  ? `On file: ${profile.tax_id_masked}. Leave blank to keep it.`
                  : "Stored encrypted; we only ever show the last four characters."
              }
              {...bind("tax_id")}
              required={needTaxId || undefined}
            />
          </div>
        </fieldset>
      ) : null}

      {show("Investing") ? (
        <fieldset>
          <legend>Investing</legend>
          <div className="grid-2">
            <SelectField label="Investment experience" choices={INVESTMENT_EXPERIENCE} {...bind("investment_experience")} />
            <SelectField label="Main objective" choices={OBJECTIVE} {...bind("objective")} />
            <SelectField label="Time horizon" choices={TIME_HORIZON} {...bind("time_horizon")} />
            <SelectField label="Liquidity needs" choices={LIQUIDITY_NEEDS} {...bind("liquidity_needs")} />
          </div>
        </fieldset>
      ) : null}

      {saved ? <StatusMessage>Profile saved.</StatusMessage> : null}
      <div className="form-actions">
        {onBack ? (
          <button type="button" className="btn btn-secondary" onClick={onBack}>
            Back
          </button>
        ) : null}
        {last ? (
          <SubmitButton busy={busy} busyLabel="Saving…">
            {submitLabel}
          </SubmitButton>
        ) : (
          <SubmitButton busy={false}>Next</SubmitButton>
        )}
      </div>
    </form>
  );
}
