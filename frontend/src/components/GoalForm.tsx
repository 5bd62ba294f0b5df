import { useId, useRef, useState } from "react";
import type { FormEvent } from "react";

import { ApiError } from "../api/client";
import type { FieldErrors } from "../api/client";
import { goals, portfolio } from "../api/endpoints";
import { IdempotencyKeeper } from "../api/idempotency";
import { ACCOUNT_TYPES, accountTypeLabel, suggestedAccountType } from "../api/tax";
import type { AccountType } from "../api/tax";
import type { Goal, GoalInput, GoalPriority, GoalStatus, GoalType } from "../api/types";
import { GOAL_PRIORITIES, GOAL_STATUSES, GOAL_TYPES } from "../lib/choices";
import {
  addYearsIso,
  checkAmount,
  formatDate,
  formatMoney,
  normaliseAmount,
  ordinal,
  RECURRING_LIMITS,
  todayIso,
} from "../lib/format";
import { asApiError } from "../lib/useAsync";
import { DAYS_OF_MONTH, isPositive } from "./GoalFunding";
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
  /** New goals only: the type of account opened for it (set once money is in it). */
  account_type: AccountType;
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
      account_type: suggestedAccountType(null),
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
    account_type: goal.account_type ?? "taxable",
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
      account_type: values.account_type,
    },
  };
}

/** The money a new goal's plan would move, as the client chose it in the form. */
interface Funding {
  deposit: boolean;
  monthly: boolean;
  day: string;
}

/** What can be offered for a plan: a starting deposit and a monthly deposit, within limits. */
function fundable(values: Values) {
  const initial = normaliseAmount(values.initial_amount) ?? "0.00";
  const monthly = normaliseAmount(values.monthly_contribution) ?? "0.00";
  return {
    deposit: isPositive(initial) && checkAmount(initial).amount !== null ? initial : null,
    monthly: isPositive(monthly) && checkAmount(monthly, RECURRING_LIMITS).amount !== null ? monthly : null,
  };
}

function nextRun(day: number): string {
  // The first scheduled day after today (the server's rule: a new schedule starts from tomorrow).
  const now = new Date();
  const thisMonth = new Date(now.getFullYear(), now.getMonth(), day);
  const date = thisMonth > now ? thisMonth : new Date(now.getFullYear(), now.getMonth() + 1, day);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
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
  // Creating only: fund the plan in the same flow, after a confirm step that shows the money.
  const [funding, setFunding] = useState<Funding>({ deposit: true, monthly: true, day: "1" });
  const [confirming, setConfirming] = useState<GoalInput | null>(null);
  // The account type follows the goal type's suggestion until the client picks one.
  const [accountTypeChosen, setAccountTypeChosen] = useState(false);
  const typeId = useId();
  const [progress, setProgress] = useState<string | null>(null);
  const created = useRef<Goal | null>(null);
  const deposited = useRef(false);
  const scheduled = useRef(false);
  const [depositKeeper] = useState(() => new IdempotencyKeeper());
  const [recurringKeeper] = useState(() => new IdempotencyKeeper());
  const offer = goal ? { deposit: null, monthly: null } : fundable(values);

  const bind = (field: keyof Values) => ({
    name: field,
    value: values[field],
    onChange: (e: { target: { value: string } }) => {
      const value = e.target.value;
      setValues((v) => {
        const next = { ...v, [field]: value };
        // Picking a type names an unnamed goal; the client can still change it.
        if (field === "goal_type" && !v.name.trim()) next.name = SUGGESTED_NAMES[value] ?? "";
        if (field === "goal_type" && !accountTypeChosen) next.account_type = suggestedAccountType(value);
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
        // The account type is chosen when the goal is created (it cannot change once funded).
        const { status, account_type: _type, ...rest } = payload;
        onSaved(await goals.update(goal.id, { ...rest, status }));
      } else if ((offer.deposit && funding.deposit) || (offer.monthly && funding.monthly)) {
        // Money would move: show what, and wait for the client to confirm. Nothing is sent yet.
        setConfirming(payload);
        setBusy(false);
      } else {
        const { status: _status, ...create } = payload;
        onSaved(await goals.create(create));
      }
    } catch (err) {
      setError(asApiError(err));
      setBusy(false);
    }
  }

  /** Confirmed: create the goal, then make the deposit and the schedule. A retry after a
   * failure resumes where it stopped; each payment keeps its Idempotency-Key. */
  async function createAndFund(payload: GoalInput, move: { deposit: string | null; monthly: string | null }) {
    setBusy(true);
    setError(null);
    try {
      if (!created.current) {
        setProgress("Creating your goal…");
        const { status: _status, ...create } = payload;
        created.current = await goals.create(create);
      }
      const goalId = created.current.id;
      const needsAccount = (move.deposit && !deposited.current) || (move.monthly && !scheduled.current);
      const account = needsAccount ? (await goals.funding(goalId)).account_id : null;
      if (account !== null && move.deposit && !deposited.current) {
        setProgress(`Depositing ${formatMoney(move.deposit)}…`);
        const key = depositKeeper.keyFor({ goal: goalId, amount: move.deposit });
        await portfolio.deposit(account, move.deposit, key);
        depositKeeper.succeeded();
        deposited.current = true;
      }
      if (account !== null && move.monthly && !scheduled.current) {
        setProgress("Scheduling your monthly deposit…");
        const body = { amount: move.monthly, day_of_month: Number(funding.day) };
        await portfolio.recurringCreate(account, body, recurringKeeper.keyFor({ goal: goalId, ...body }));
        recurringKeeper.succeeded();
        scheduled.current = true;
      }
      onSaved(created.current);
    } catch (err) {
      const problem = asApiError(err);
      setError(
        created.current
          ? new ApiError(
              problem.status,
              `Your goal “${created.current.name}” was created, but ${
                move.deposit && !deposited.current ? "the deposit" : "the monthly deposit"
              } didn't go through: ${problem.message} Try again, or go to your goal and fund it later.`,
              problem.code,
            )
          : problem,
      );
      setProgress(null);
      setBusy(false);
    }
  }

  if (confirming) {
    const move = {
      deposit: funding.deposit ? offer.deposit : null,
      monthly: funding.monthly ? offer.monthly : null,
    };
    const day = Number(funding.day);
    return (
      <div className="form confirm-step" role="group" aria-labelledby="goal-confirm-title">
        <h3 id="goal-confirm-title">Check and confirm</h3>
        <p>
          We'll create <strong>{confirming.name}</strong> ({formatMoney(confirming.target_amount, "USD", { whole: true })} by{" "}
          {formatDate(confirming.target_date)}) with its own account ({accountTypeLabel(confirming.account_type)}), and
          move this money into it:
        </p>
        <ul className="confirm-list" data-testid="money-summary">
          {move.deposit ? (
            <li>
              <strong>{formatMoney(move.deposit)}</strong> deposited now, invested at the next market close.
            </li>
          ) : null}
          {move.monthly ? (
            <li>
              <strong>{formatMoney(move.monthly)} every month</strong> on the {ordinal(day)}, from{" "}
              {formatDate(nextRun(day))}, until you pause or cancel it (on the Money page).
            </li>
          ) : null}
        </ul>
        <p className="small muted">Nothing moves until you confirm.</p>
        <ErrorAlert error={error} />
        {progress ? <p role="status">{progress}</p> : null}
        <div className="form-actions">
          {created.current ? (
            <button type="button" className="btn btn-secondary" onClick={() => created.current && onSaved(created.current)} disabled={busy}>
              Go to my goal
            </button>
          ) : (
            <>
              <button type="button" className="btn btn-secondary" onClick={() => setConfirming(null)} disabled={busy}>
                Back
              </button>
              <button
                type="button"
                className="btn btn-ghost"
                onClick={() => void createAndFund(confirming, { deposit: null, monthly: null })}
                disabled={busy}
              >
                Create the goal without moving money
              </button>
            </>
          )}
          <button type="button" className="btn btn-primary" onClick={() => void createAndFund(confirming, move)} disabled={busy}>
            {busy ? "Working…" : created.current ? "Try again" : "Confirm and create"}
          </button>
        </div>
      </div>
    );
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
      {goal ? null : (
        <fieldset className="fieldset account-types" aria-describedby={`${typeId}-hint`}>
          <legend>Account type</legend>
          <p id={`${typeId}-hint`} className="field-hint">
            {values.goal_type === "retirement"
              ? "Suggested for retirement: a traditional IRA. "
              : "Suggested: a taxable account. "}
            It can't change once money is in the account.
          </p>
          {ACCOUNT_TYPES.map(([value, text, explanation]) => (
            <div key={value} className="radio-card">
              <input
                id={`${typeId}-${value}`}
                type="radio"
                name="account_type"
                value={value}
                checked={values.account_type === value}
                aria-describedby={`${typeId}-${value}-hint`}
                onChange={() => {
                  setAccountTypeChosen(true);
                  setValues((v) => ({ ...v, account_type: value }));
                }}
              />
              <label htmlFor={`${typeId}-${value}`} className="radio-card-title">
                {text}
              </label>
              <p id={`${typeId}-${value}-hint`} className="radio-card-hint">
                {explanation}
              </p>
            </div>
          ))}
          {error?.fields.account_type?.length ? (
            <p className="field-error">{error.fields.account_type.join(" ")}</p>
          ) : null}
        </fieldset>
      )}
      {offer.deposit || offer.monthly ? (
        <fieldset className="fieldset">
          <legend>Fund your plan</legend>
          {offer.deposit ? (
            <label className="check">
              <input
                type="checkbox"
                checked={funding.deposit}
                onChange={(e) => setFunding((f) => ({ ...f, deposit: e.target.checked }))}
              />{" "}
              Deposit the starting {formatMoney(offer.deposit)} now
            </label>
          ) : null}
          {offer.monthly ? (
            <div className="check">
              <label>
                <input
                  type="checkbox"
                  checked={funding.monthly}
                  onChange={(e) => setFunding((f) => ({ ...f, monthly: e.target.checked }))}
                />{" "}
                Deposit {formatMoney(offer.monthly)} every month
              </label>{" "}
              <label>
                on the{" "}
                <select
                  aria-label="Day of the month"
                  value={funding.day}
                  onChange={(e) => setFunding((f) => ({ ...f, day: e.target.value }))}
                  disabled={!funding.monthly}
                >
                  {DAYS_OF_MONTH.map((d) => (
                    <option key={d} value={d}>
                      {ordinal(d)}
                    </option>
                  ))}
                </select>
              </label>
            </div>
          ) : null}
          <p className="field-hint">You'll see a summary of the money that will move, and confirm it, before anything happens.</p>
        </fieldset>
      ) : null}
      <div className="form-actions">
        {onCancel ? (
          <button type="button" className="btn btn-secondary" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        ) : null}
        <SubmitButton busy={busy} busyLabel="Saving…">
          {submitLabel ??
            (goal
              ? "Save changes"
              : (offer.deposit && funding.deposit) || (offer.monthly && funding.monthly)
                ? "Review and create"
                : "Create goal")}
        </SubmitButton>
      </div>
    </form>
  );
}
