// Labels for the server's choice fields, in the order the server lists them. Values and labels
// come from the OpenAPI schema's enums (api/choices.gen.ts, written by `make api-types`).
import * as schema from "../api/choices.gen";

export type Choice = readonly [value: string, label: string];

export const EMPLOYMENT_STATUS = schema.EmploymentStatusEnum;
export const OCCUPATION_CATEGORY = schema.OccupationCategoryEnum;
export const MARITAL_STATUS = schema.MaritalStatusEnum;
export const EDUCATION_LEVEL = schema.EducationLevelEnum;
export const TAX_FILING_STATUS = schema.TaxFilingStatusEnum;
export const INVESTMENT_EXPERIENCE = schema.InvestmentExperienceEnum;
export const OBJECTIVE = schema.ObjectiveEnum;
export const TIME_HORIZON = schema.TimeHorizonEnum;
export const LIQUIDITY_NEEDS = schema.LiquidityNeedsEnum;
export const GOAL_TYPES = schema.GoalTypeEnum;
export const GOAL_PRIORITIES = schema.PriorityEnum;
export const GOAL_STATUSES = schema.GoalStatusEnum;
export const TRANSACTION_KINDS = schema.KindEnum;

export const ASSET_CLASSES = schema.AssetClassEnum;

export function label(choices: readonly Choice[], value: string | null | undefined): string {
  if (!value) return "—";
  return choices.find(([v]) => v === value)?.[1] ?? value;
}

export function assetClassLabel(value: string): string {
  return ASSET_CLASSES.find(([v]) => v === value)?.[1] ?? value.replace(/_/g, " ");
}

/** Risk levels 1–10 in words. */
export function riskLevelName(level: number): string {
  if (level <= 2) return "Conservative";
  if (level <= 4) return "Moderately conservative";
  if (level <= 6) return "Moderate";
  if (level <= 8) return "Growth";
  return "Aggressive growth";
}
