// Labels for the server's choice fields (advisor/models.py), in the order the server lists them.

export type Choice = readonly [value: string, label: string];

export const EMPLOYMENT_STATUS: Choice[] = [
  ["employed", "Employed"],
  ["self_employed", "Self-employed"],
  ["unemployed", "Unemployed"],
  ["retired", "Retired"],
  ["student", "Student"],
  ["homemaker", "Homemaker"],
];

export const OCCUPATION_CATEGORY: Choice[] = [
  ["management", "Management and business"],
  ["professional", "Professional (law, medicine, engineering, science)"],
  ["finance", "Financial services"],
  ["technology", "Technology"],
  ["education", "Education"],
  ["healthcare", "Healthcare support"],
  ["sales_service", "Sales and service"],
  ["trades", "Construction, production and trades"],
  ["public_sector", "Government and military"],
  ["arts", "Arts, media and entertainment"],
  ["other", "Other"],
  ["none", "Not working"],
];

export const MARITAL_STATUS: Choice[] = [
  ["single", "Single"],
  ["married", "Married or civil partnership"],
  ["divorced", "Divorced or separated"],
  ["widowed", "Widowed"],
];

export const EDUCATION_LEVEL: Choice[] = [
  ["no_high_school", "No high-school diploma"],
  ["high_school", "High-school diploma"],
  ["some_college", "Some college or associate degree"],
  ["bachelors", "Bachelor's degree"],
  ["graduate", "Graduate or professional degree"],
];

export const TAX_FILING_STATUS: Choice[] = [
  ["single", "Single"],
  ["married_joint", "Married filing jointly"],
  ["married_separate", "Married filing separately"],
  ["head_of_household", "Head of household"],
  ["qualifying_surviving_spouse", "Qualifying surviving spouse"],
];

export const INVESTMENT_EXPERIENCE: Choice[] = [
  ["none", "None"],
  ["limited", "Limited (under 2 years)"],
  ["moderate", "Moderate (2–10 years)"],
  ["extensive", "Extensive (over 10 years)"],
];

export const OBJECTIVE: Choice[] = [
  ["capital_preservation", "Capital preservation"],
  ["income", "Income"],
  ["balanced", "Balanced growth and income"],
  ["growth", "Growth"],
  ["aggressive_growth", "Aggressive growth"],
];

export const TIME_HORIZON: Choice[] = [
  ["under_3", "Under 3 years"],
  ["3_to_5", "3 to 5 years"],
  ["6_to_10", "6 to 10 years"],
  ["11_to_20", "11 to 20 years"],
  ["over_20", "Over 20 years"],
];

export const LIQUIDITY_NEEDS: Choice[] = [
  ["low", "Low: no withdrawals expected for years"],
  ["medium", "Medium: occasional withdrawals"],
  ["high", "High: regular or imminent withdrawals"],
];

export const GOAL_TYPES: Choice[] = [
  ["retirement", "Retirement"],
  ["home_purchase", "Home purchase"],
  ["education", "Education"],
  ["emergency_fund", "Emergency fund"],
  ["major_purchase", "Major purchase"],
  ["general_wealth", "General wealth"],
];

export const GOAL_PRIORITIES: Choice[] = [
  ["need", "Need"],
  ["want", "Want"],
  ["wish", "Wish"],
];

export const GOAL_STATUSES: Choice[] = [
  ["active", "Active"],
  ["paused", "Paused"],
  ["achieved", "Achieved"],
  ["closed", "Closed"],
];

export const ASSET_CLASSES: Record<string, string> = {
  us_equity: "US stocks",
  intl_developed_equity: "Developed-market stocks",
  emerging_equity: "Emerging-market stocks",
  us_aggregate_bonds: "US bonds",
  treasuries: "US Treasuries",
  tips: "Inflation-protected bonds",
  corporate_bonds: "Corporate bonds",
  real_estate: "Real estate",
  gold: "Gold",
  cash: "Cash (T-bills)",
};

export function label(choices: Choice[], value: string | null | undefined): string {
  if (!value) return "—";
  return choices.find(([v]) => v === value)?.[1] ?? value;
}

export function assetClassLabel(value: string): string {
  return ASSET_CLASSES[value] ?? value.replace(/_/g, " ");
}

/** Risk levels 1–10 in words. */
export function riskLevelName(level: number): string {
  if (level <= 2) return "Conservative";
  if (level <= 4) return "Moderately conservative";
  if (level <= 6) return "Moderate";
  if (level <= 8) return "Growth";
  return "Aggressive growth";
}
