import { useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../api/client";
import type { FieldErrors } from "../api/client";
import { goals } from "../api/endpoints";
import type { Goal, GoalInput, GoalPriority, GoalStatus, GoalType } from "../api/types";
import { GOAL_PRIORITIES, GOAL_STATUSES, GOAL_TYPES } from "../lib/choices";
import { addYearsIso, normaliseAmount, todayIso } from "../lib/format";
import { asApiError } from "../lib/useAsync";
import { ErrorAlert, MoneyField, SelectField, SubmitButton, TextField } from "./ui";

interface Values {
  name: string;
  goal_type: string;
  target_amount: string;
  target_date: string;
  initial_amount: string;
  monthly_contribution: string;
  priority: string;
  status: string;
}

const SUGGESTED_NAMES: Record<string, string> = {
  retirement: "Retirement",
  home_purchase: "A home of my own",
  education: "College fund",
  emergency_fund: "Emergency fund",
  major_purchase: "A big purchase",
  general_wealth: "Long-term wealth",
};

// The model's defaults; the schema marks priority and status optional in GoalOutput too.
const DEFAULT_PRIORITY: GoalPriority = "want";
const DEFAULT_STATUS: GoalStatus = "active";

function fromGoal(goal?: Goal): Values {
  if (!goal) {
    return {
      name: "",
      goal_type: "",
      target_amount: "",
      target_date: addYearsIso(todayIso(), 10),
      initial_amount: "",
      monthly_contribution: "",
      priority: DEFAULT_PRIORITY,
      status: DEFAULT_STATUS,
    };
  }
  return {
    name: goal.name,
    goal_type: goal.goal_type,
    target_amount: goal.target_amount,
    target_date: goal.target_date,
    initial_amount: goal.initial_amount,
    monthly_contribution: goal.monthly_contribution,
    priority: goal.priority ?? DEFAULT_PRIORITY,
    status: goal.status ?? DEFAULT_STATUS,
  };
}

function validate(values: Values): { errors: FieldErrors; payload: GoalInput | null } {
  const errors: FieldErrors = {};
  if (!values.name.trim()) errors.name = ["Give your goal a name."];
  if (!values.goal_type) errors.goal_type = ["Choose a goal type."];
  const target = normaliseAmount(values.target_amount);
  if (!target) errors.target_amount = ["Enter a target of at least $1, e.g. 50000."];
  if (!values.target_date) errors.target_date = ["Choose a target date."];
  else if (values.target_date <= todayIso()) errors.target_date = ["The target date must be in the future."];
  const optional = (field: "initial_amount" | "monthly_contribution") => {
    const raw = values[field].trim();
    if (!raw || /^0+(\.0+)?$/.test(raw)) return "0.00";
    const amount = normaliseAmount(raw);
    if (!amount) errors[field] = ["Enter an amount in dollars, e.g. 500."];
    return amount ?? "0.00";
  };
  const initial = optional("initial_amount");
  const monthly = optional("monthly_contribution");
  if (Object.keys(errors).length || !target) return { errors, payload: null };
  return {
    errors,
    payload: {
      name: values.name.trim(),
      goal_type: values.goal_type as GoalType,
      target_amount: target,
      target_date: values.target_date,
      initial_amount: initial,
      monthly_contribution: monthly,
      priority: values.priority as GoalPriority,
      status: values.status as GoalStatus,
    },
  };
}

export function GoalForm({
  goal,
  onSaved,
  onCancel,
  submitLabel,
}: {
  goal?: Goal;
  onSaved: (goal: Goal) => void;
  onCancel?: () => void;
  submitLabel?: string;
}) {
  const [values, setValues] = useState<Values>(() => fromGoal(goal));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const bind = (field: keyof Values) => ({
    name: field,
    value: values[field],
    onChange: (e: { target: { value: string } }) => {
      const value = e.target.value;
      setValues((v) => {
        const next = { ...v, [field]: value };
        // Picking a type names an unnamed goal; the client can still change it.
        if (field === "goal_type" && !v.name.trim()) next.name = SUGGESTED_NAMES[value] ?? "";
        return next;
      });
    },
    errors: error?.fields[field],
  });

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    const { errors, payload } = validate(values);
    if (!payload) {
      setError(new ApiError(400, "Please check the highlighted fields.", "invalid", { fields: errors }));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (goal) {
        const { status, ...rest } = payload;
        onSaved(await goals.update(goal.id, { ...rest, status }));
      } else {
        const { status: _status, ...create } = payload;
        onSaved(await goals.create(create));
      }
    } catch (err) {
      setError(asApiError(err));
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} noValidate className="form">
      <ErrorAlert error={error} />
      <div className="grid-2">
        <SelectField label="Goal type" choices={GOAL_TYPES} {...bind("goal_type")} />
        <TextField label="Name" maxLength={100} {...bind("name")} />
        <MoneyField label="Target amount" hint="In today's dollars." {...bind("target_amount")} />
        <TextField label="Target date" type="date" min={todayIso()} {...bind("target_date")} />
        <MoneyField label="Starting amount (optional)" hint="What you'll put in at the start." {...bind("initial_amount")} />
        <MoneyField label="Monthly contribution (optional)" {...bind("monthly_contribution")} />
        <SelectField
          label="Priority"
          choices={GOAL_PRIORITIES}
          placeholder={null}
          hint="Needs are invested more cautiously than wishes."
          {...bind("priority")}
        />
        {goal ? <SelectField label="Status" choices={GOAL_STATUSES} placeholder={null} {...bind("status")} /> : null}
      </div>
      <div className="form-actions">
        {onCancel ? (
          <button type="button" className="btn btn-secondary" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        ) : null}
        <SubmitButton busy={busy} busyLabel="Saving…">
          {submitLabel ?? (goal ? "Save changes" : "Create goal")}
        </SubmitButton>
      </div>
    </form>
  );
}
