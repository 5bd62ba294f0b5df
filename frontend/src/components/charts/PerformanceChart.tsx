import { Area, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { formatDate, formatMoneyCompact, formatMonth } from "../../lib/format";
import { ACCENT, AXIS, GRID } from "./colors";

export interface ValuePoint {
  day: string;
  /** Chart-only numbers; labels come from `label`/`depositsLabel`, formatted from the API's decimal strings. */
  value: number;
  label: string;
  /** Deposits − withdrawals from the first day through this one. */
  netDeposits: number;
  depositsLabel: string;
}

/** Value and net deposits over time: the gap between the two lines is the market's gain or loss. */
export default function PerformanceChart({ points, summary }: { points: ValuePoint[]; summary: string }) {
  const spanDays = points.length;
  return (
    <div className="chart" role="img" aria-label={summary}>
      <ResponsiveContainer width="100%" height={260}>
        <ComposedChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <defs>
            <linearGradient id="perf-fill" x1="0" y1="0" x2="0" y2="1">
              <stop offset="0%" stopColor={ACCENT} stopOpacity={0.22} />
              <stop offset="100%" stopColor={ACCENT} stopOpacity={0.02} />
            </linearGradient>
          </defs>
          <CartesianGrid stroke={GRID} vertical={false} />
          <XAxis
            dataKey="day"
            tickFormatter={(d: string) => (spanDays > 100 ? formatMonth(d) : formatDate(d).replace(/, \d{4}$/, ""))}
            tick={{ fill: AXIS, fontSize: 12 }}
            tickLine={false}
            axisLine={{ stroke: GRID }}
            minTickGap={32}
          />
          <YAxis
            tickFormatter={(v: number) => formatMoneyCompact(v)}
            tick={{ fill: AXIS, fontSize: 12 }}
            tickLine={false}
            axisLine={false}
            width={64}
            domain={["auto", "auto"]}
          />
          <Tooltip
            formatter={(_v, name, item) => {
              const point = item.payload as ValuePoint;
              return name === "Net deposits" ? [point.depositsLabel, name] : [point.label, "Value"];
            }}
            labelFormatter={(d) => formatDate(String(d))}
            contentStyle={{ borderRadius: 8, borderColor: GRID }}
          />
          <Legend verticalAlign="top" height={24} iconType="plainline" />
          <Area
            type="monotone"
            dataKey="value"
            name="Value"
            stroke={ACCENT}
            strokeWidth={2}
            fill="url(#perf-fill)"
            isAnimationActive={false}
          />
          <Line
            type="stepAfter"
            dataKey="netDeposits"
            name="Net deposits"
            stroke={AXIS}
            strokeWidth={1.5}
            strokeDasharray="4 3"
            dot={false}
            isAnimationActive={false}
          />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}
