import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { AXIS, GRID } from "./colors";

/** One historical scenario's path as chart-only numbers: the value each day as % of its start. */
export interface ScenarioLine {
  key: string;
  name: string;
  /** 100 at the start; 65 is a 35% fall. */
  percents: number[];
}

// Distinct and colour-blind-safe enough beside each other (Okabe–Ito order).
const LINE_COLORS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"];

/**
 * Historical stress scenarios replayed on today's holdings, one line each, on a shared axis of
 * trading days from each window's start. Read by a screen reader as `summary`; the table beside
 * it carries the figures.
 */
export default function ScenarioChart({ lines, summary }: { lines: ScenarioLine[]; summary: string }) {
  const days = Math.max(0, ...lines.map((l) => l.percents.length));
  const data = Array.from({ length: days }, (_, day) => {
    const row: Record<string, number> = { day };
    for (const line of lines) {
      const value = line.percents[day];
      if (value !== undefined) row[line.key] = value;
    }
    return row;
  });
  const all = lines.flatMap((l) => l.percents);
  const low = Math.floor(Math.min(100, ...all) / 10) * 10;
  const high = Math.ceil(Math.max(100, ...all) / 10) * 10;
  return (
    <div className="chart" role="img" aria-label={summary}>
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid stroke={GRID} vertical={false} />
          <XAxis
            dataKey="day"
            type="number"
            domain={[0, Math.max(1, days - 1)]}
            tick={{ fill: AXIS, fontSize: 12 }}
            tickLine={false}
            axisLine={{ stroke: GRID }}
            tickFormatter={(d: number) => `${Math.round(d / 21)} mo`}
            minTickGap={32}
          />
          <YAxis
            domain={[low, high]}
            tickFormatter={(v: number) => `${v}%`}
            tick={{ fill: AXIS, fontSize: 12 }}
            tickLine={false}
            axisLine={false}
            width={48}
          />
          <Tooltip
            formatter={(value, name) => [`${Number(value).toFixed(1)}% of the start`, String(name)]}
            labelFormatter={(d) => `Trading day ${String(d)}`}
            contentStyle={{ borderRadius: 8, borderColor: GRID }}
          />
          <Legend verticalAlign="top" height={24} iconType="plainline" />
          <ReferenceLine y={100} stroke={AXIS} strokeDasharray="4 3" />
          {lines.map((line, i) => (
            <Line
              key={line.key}
              type="monotone"
              dataKey={line.key}
              name={line.name}
              stroke={LINE_COLORS[i % LINE_COLORS.length]}
              strokeWidth={1.75}
              dot={false}
              connectNulls={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
