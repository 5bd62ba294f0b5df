// Typed calls to /api/v1/, one function per operation.
import { del, get, patch, post, request } from "./client";
import type {
  AccountSummary,
  CashFlowResult,
  ChatConversation,
  ChatConversationSummary,
  ChatReply,
  ClientProfile,
  ClientUpdate,
  DeviceToken,
  Goal,
  GoalInput,
  HoldingsNews,
  Paginated,
  Performance,
  PortfolioSummary,
  Projection,
  QuestionnaireResponse,
  QuestionSet,
  RebalanceProposal,
  RecurringDeposit,
  RiskProfile,
  Transaction,
  User,
} from "./types";

export const auth = {
  me: (signal?: AbortSignal) => get<User>("auth/me/", { signal, anonymous: true }),
  login: (email: string, password: string) =>
    post<User>("auth/login/", { email, password }, { anonymous: true }),
  register: (body: { email: string; password: string; first_name: string; last_name: string }) =>
    post<User>("auth/register/", body, { anonymous: true }),
  logout: () => post<null>("auth/logout/", undefined, { anonymous: true }),
  tokens: (signal?: AbortSignal) => get<DeviceToken[]>("auth/tokens/", { signal }),
  revokeToken: (tokenKey: string) => del(`auth/tokens/${encodeURIComponent(tokenKey)}/`),
};

export const clients = {
  me: (signal?: AbortSignal) => get<ClientProfile>("clients/me/", { signal }),
  update: (body: ClientUpdate) => patch<ClientProfile>("clients/me/", body),
};

export const risk = {
  questionnaire: (signal?: AbortSignal) => get<QuestionSet>("questionnaire/", { signal }),
  submit: (version: string, answers: Record<string, string>) =>
    post<QuestionnaireResponse>("questionnaire/responses/", { version, answers }),
  responses: (signal?: AbortSignal) =>
    get<QuestionnaireResponse[]>("questionnaire/responses/", { signal }),
  profile: (signal?: AbortSignal) => get<RiskProfile>("risk-profile/", { signal }),
};

export const goals = {
  list: (signal?: AbortSignal) =>
    get<Paginated<Goal>>("goals/", { signal, query: { page_size: 100, ordering: "target_date" } }),
  get: (id: number, signal?: AbortSignal) => get<Goal>(`goals/${id}/`, { signal }),
  create: (body: GoalInput) => post<Goal>("goals/", body),
  update: (id: number, body: Partial<GoalInput>) => patch<Goal>(`goals/${id}/`, body),
  remove: (id: number) => del(`goals/${id}/`),
  /** 200 ready/failed, or 202 pending: call again shortly. */
  projection: async (
    id: number,
    whatIf: { monthly_contribution?: string; target_date?: string } = {},
    signal?: AbortSignal,
  ) => (await request<Projection>(`goals/${id}/projection/`, { query: whatIf, signal })).data,
};

export const portfolio = {
  summary: (signal?: AbortSignal) => get<PortfolioSummary>("portfolio/summary/", { signal }),
  accounts: (signal?: AbortSignal) => get<AccountSummary[]>("accounts/", { signal }),
  performance: (accountId: number, signal?: AbortSignal) =>
    get<Performance>(`accounts/${accountId}/performance/`, { signal }),
  rebalances: (accountId: number, signal?: AbortSignal) =>
    get<RebalanceProposal[]>(`accounts/${accountId}/rebalances/`, { signal }),
  transactions: (accountId: number, page = 1, signal?: AbortSignal) =>
    get<Paginated<Transaction>>(`accounts/${accountId}/transactions/`, {
      signal,
      query: { page },
    }),
  deposit: (accountId: number, amount: string, idempotencyKey: string) =>
    post<CashFlowResult>(`accounts/${accountId}/deposits/`, { amount }, { idempotencyKey }),
  withdraw: (accountId: number, amount: string, idempotencyKey: string) =>
    post<CashFlowResult>(`accounts/${accountId}/withdrawals/`, { amount }, { idempotencyKey }),
  recurring: (accountId: number, signal?: AbortSignal) =>
    get<RecurringDeposit[]>(`accounts/${accountId}/recurring-deposits/`, { signal }),
  recurringCreate: (accountId: number, body: { amount: string; day_of_month: number }) =>
    post<RecurringDeposit>(`accounts/${accountId}/recurring-deposits/`, body),
  recurringSetActive: (accountId: number, id: number, active: boolean) =>
    patch<RecurringDeposit>(`accounts/${accountId}/recurring-deposits/${id}/`, { active }),
  recurringCancel: (accountId: number, id: number) =>
    del(`accounts/${accountId}/recurring-deposits/${id}/`),
};

export const news = {
  holdings: (signal?: AbortSignal) => get<HoldingsNews>("news/holdings/", { signal }),
};

export const chat = {
  send: (conversation: number | null, text: string) =>
    post<ChatReply>("chat/messages/", { conversation, text }),
  conversations: (signal?: AbortSignal) =>
    get<Paginated<ChatConversationSummary>>("chat/conversations/", { signal }),
  conversation: (id: number, signal?: AbortSignal) =>
    get<ChatConversation>(`chat/conversations/${id}/`, { signal }),
};
