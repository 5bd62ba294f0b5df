// Shapes of /api/v1/ as the server sends them. Money and weights arrive as decimal strings and
// stay strings: only charts turn them into numbers.

export type Decimal = string;
export type ISODate = string; // 2026-05-31
export type ISODateTime = string;

export interface Paginated<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export type Role = "client" | "advisor" | "admin";

export interface User {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  role: Role;
  client_id: number | null;
}

export interface DeviceToken {
  token_key: string;
  device_name: string;
  created: ISODateTime;
  expiry: ISODateTime;
}

export interface ClientProfile {
  id: number;
  email: string;
  first_name: string;
  last_name: string;
  date_of_birth: ISODate | null;
  address_line1: string;
  address_line2: string;
  city: string;
  region: string;
  postal_code: string;
  country: string;
  phone: string;
  tax_id_masked: string;
  employment_status: string;
  occupation_category: string;
  annual_income: Decimal | null;
  net_worth: Decimal | null;
  liquid_net_worth: Decimal | null;
  dependents: number | null;
  marital_status: string;
  education_level: string;
  tax_filing_status: string;
  investment_experience: string;
  objective: string;
  time_horizon: string;
  liquidity_needs: string;
  kyc_complete: boolean;
  kyc_completed_at: ISODateTime | null;
  kyc_review_due: ISODate | null;
  kyc_review_overdue: boolean;
  advisor_name: string | null;
  created_at: ISODateTime;
  updated_at: ISODateTime;
}

/** What PATCH clients/me/ accepts; tax_id is write-only. */
export type ClientUpdate = Partial<
  Omit<
    ClientProfile,
    | "id"
    | "email"
    | "tax_id_masked"
    | "kyc_complete"
    | "kyc_completed_at"
    | "kyc_review_due"
    | "kyc_review_overdue"
    | "advisor_name"
    | "created_at"
    | "updated_at"
  > & { tax_id: string }
>;

export interface QuestionChoice {
  value: string;
  label: string;
}

export interface Question {
  key: string;
  text: string;
  dimension: "willingness" | "capacity";
  help_text: string;
  choices: QuestionChoice[];
}

export interface QuestionSet {
  version: string;
  title: string;
  questions: Question[];
}

export interface RiskFlag {
  code: string;
  message: string;
}

export interface RiskAssessment {
  method: string;
  risk_level: number;
  willingness_score: number | null;
  capacity_score: number | null;
  inconsistent: boolean;
  flags: RiskFlag[];
  details: {
    attributions?: Record<string, number>;
    model?: string;
    tolerance?: number;
    [key: string]: unknown;
  };
  created_at: ISODateTime;
}

export interface QuestionnaireResponse {
  id: number;
  version: string;
  answers: Record<string, string>;
  submitted_at: ISODateTime;
  assessments: RiskAssessment[];
}

export type ModelOpinion = "pending" | "done" | "incomplete_profile" | "unavailable" | "failed";

export interface RiskProfile {
  risk_level: number;
  willingness_score: number;
  capacity_score: number;
  willingness_level: number | null;
  capacity_level: number | null;
  inconsistent: boolean;
  flags: RiskFlag[];
  method: string;
  /** Where the risk model's second opinion stands (absent on older servers). */
  model_opinion?: ModelOpinion;
  model_opinion_detail?: string;
  questionnaire_version: string;
  response_id: number;
  assessed_at: ISODateTime;
  explanation: string;
  second_opinions: RiskAssessment[];
}

export type GoalType =
  | "retirement"
  | "home_purchase"
  | "education"
  | "emergency_fund"
  | "major_purchase"
  | "general_wealth";
export type GoalPriority = "need" | "want" | "wish";
export type GoalStatus = "active" | "paused" | "achieved" | "closed";

export interface Goal {
  id: number;
  goal_type: GoalType;
  name: string;
  target_amount: Decimal;
  currency: string;
  target_date: ISODate;
  initial_amount: Decimal;
  monthly_contribution: Decimal;
  priority: GoalPriority;
  status: GoalStatus;
  created_at: ISODateTime;
  updated_at: ISODateTime;
}

export interface GoalInput {
  goal_type: GoalType;
  name: string;
  target_amount: Decimal;
  target_date: ISODate;
  initial_amount?: Decimal;
  monthly_contribution?: Decimal;
  priority?: GoalPriority;
  status?: GoalStatus;
}

export interface Holding {
  ticker: string;
  name: string;
  asset_class: string;
  quantity: Decimal;
  price: Decimal;
  value: Decimal;
  weight: Decimal;
  target_weight: Decimal;
}

export interface AccountSummary {
  id: number;
  goal_id: number;
  goal_name: string;
  currency: string;
  market_date: ISODate;
  value: Decimal;
  cash: Decimal;
  invested: Decimal;
  level: number | null;
  drift: number | null;
  holdings: Holding[];
}

export interface PeriodReturn {
  period: string; // 1M, 3M, YTD, 1Y, ITD
  start: ISODate;
  end: ISODate;
  twr: Decimal | null;
  mwr: Decimal | null;
  benchmark: Decimal | null;
}

export interface GoalSummary {
  id: number;
  name: string;
  goal_type: GoalType;
  target_amount: Decimal;
  target_date: ISODate;
  account_id: number;
  value: Decimal;
  probability: number | null;
}

export interface PortfolioSummary {
  market_date: ISODate;
  total_value: Decimal;
  cash: Decimal;
  risk_level: number | null;
  pending_rebalances: number;
  accounts: AccountSummary[];
  goals: GoalSummary[];
  performance: PeriodReturn[];
}

export interface DailyValue {
  day: ISODate;
  value: Decimal;
  flow: Decimal;
}

export interface Performance {
  account_id: number;
  periods: PeriodReturn[];
  realised_gain: Decimal;
  unrealised_gain: Decimal;
  history: DailyValue[];
}

export interface RebalanceTrade {
  ticker: string;
  side: "buy" | "sell";
  value: Decimal;
}

export interface RebalanceProposal {
  id: number;
  account: number;
  client_id: number;
  status: "pending" | "approved" | "rejected" | "executed" | "expired" | string;
  market_date: ISODate;
  drift: Decimal;
  threshold: Decimal;
  reason: string;
  trades: RebalanceTrade[];
  before_weights: Record<string, Decimal>;
  after_weights: Record<string, Decimal>;
  decided_at: ISODateTime | null;
  created_at: ISODateTime;
}

export interface LedgerEntry {
  ticker: string | null;
  quantity: Decimal;
  price: Decimal | null;
}

export interface Transaction {
  id: number;
  kind: string;
  amount: Decimal;
  market_date: ISODate;
  description: string;
  created_at: ISODateTime;
  entries: LedgerEntry[];
}

export interface CashFlowResult {
  message: string;
  transaction: Transaction;
  account: AccountSummary;
}

export interface RecurringDeposit {
  id: number;
  account: number;
  amount: Decimal;
  day_of_month: number;
  next_run: ISODate;
  active: boolean;
  created_at: ISODateTime;
}

export interface Projection {
  status: "pending" | "ready" | "failed";
  message?: string;
  goal_id: number;
  probability?: number | null;
  required_monthly_contribution?: number | null;
  expected_final_value?: number | null;
  percentiles?: { p10: number[]; p50: number[]; p90: number[] };
  months?: number;
  target_amount?: number;
  monthly_contribution?: number;
  level?: number;
  computed_at?: ISODateTime | null;
}

export interface Headline {
  headline: string;
  source: string;
  url: string;
  published_at: ISODateTime;
  label: string | null;
}

export interface AssetSentiment {
  ticker: string;
  asset_class: string;
  score: number | null;
  count: number;
  negative: number;
  positive: number;
  headlines: Headline[];
}

export interface HoldingsNews {
  status: "ready" | "pending";
  market_date: ISODate;
  model: string | null;
  policy: string;
  assets: AssetSentiment[];
}

// --- Chat ---------------------------------------------------------------------------------

export interface ChatSource {
  slug: string;
  title: string;
  excerpt: string;
}

export interface ChatEscalation {
  id: number;
  status: "open" | "resolved";
  created_at: ISODateTime;
}

export interface ChatReply {
  conversation: number;
  message_id?: number;
  reply: string;
  intent: string | null;
  confidence: number | null;
  sources: ChatSource[];
  /** A holding reply: the real answer joins the conversation when it is ready. */
  fallback?: boolean;
  escalation: ChatEscalation | null;
}

export interface ChatConversationSummary {
  id: number;
  created_at: ISODateTime;
  updated_at: ISODateTime;
}

export interface ChatMessage {
  id: number;
  role: "client" | "assistant";
  text: string;
  reply_to?: number | null;
  intent: string | null;
  confidence: number | null;
  sources: ChatSource[];
  fallback?: boolean;
  created_at: ISODateTime;
}

export interface ChatConversation {
  id: number;
  created_at: ISODateTime;
  escalation: ChatEscalation | null;
  messages: ChatMessage[];
}
