import {
  Area,
  CartesianGrid,
  ComposedChart,
  Line,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";

import { chartNumber, formatMoney, formatMoneyCompact } from "../../lib/format";
import { ACCENT, ACCENT_SOFT, AXIS, GRID } from "./colors";

/** Round-number ticks from 0 to at least `value`: the top is 1, 2, 2.5 or 5 × 10^k. */
function niceTicks(value: number): number[] {
  if (!(value > 0)) return [0, 1];
  const power = 10 ** Math.floor(Math.log10(value));
  const lead = [1, 2, 2.5, 5, 10].find((m) => m * power >= value) ?? 10;
  const steps = lead === 2 ? 4 : 5;
  return Array.from({ length: steps + 1 }, (_, i) => ((lead * power) / steps) * i);
}

/** One month of the fan, as numbers for drawing (the API sends decimal strings; see chartNumber). */
export interface FanPoint {
  month: number;
  label: string; // "Jun 2031"
  p10: number;
  p50: number;
  p90: number;
  band: [number, number];
}

export default function FanChart({
  points,
  target: targetAmount,
  summary,
}: {
  points: FanPoint[];
  /** The goal's target, a decimal string as the API sends money (or a number). */
  target: string | number | null;
  summary: string;
}) {
  const target = targetAmount === null ? null : chartNumber(targetAmount);
  // Keep the target in view even when every path falls short of it.
  const ticks = niceTicks(Math.max(...points.map((p) => p.p90), (target ?? 0) * 1.05));
  return (
    <div className="chart" role="img" aria-label={summary}>
      <ResponsiveContainer width="100%" height={300}>
        <ComposedChart data={points} margin={{ top: 12, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid stroke={GRID} vertical={false} />
          <XAxis
            dataKey="label"
            tick={{ fill: AXIS, fontSize: 12 }}
            tickLine={false}
            axisLine={{ stroke: GRID }}
            minTickGap={40}
          />
          <YAxis
            tickFormatter={(v: number) => formatMoneyCompact(v)}
            tick={{ fill: AXIS, fontSize: 12 }}
            tickLine={false}
            axisLine={false}
            width={64}
            domain={[0, ticks[ticks.length - 1] ?? 1]}
            ticks={ticks}
          />
          <Tooltip
            content={({ active, payload }) => {
              const point = active && payload?.[0] ? (payload[0].payload as FanPoint) : null;
              if (!point) return null;
              return (
                <div className="chart-tooltip">
                  <p className="chart-tooltip-title">{point.label}</p>
                  <p>Good markets (90th): {formatMoney(point.p90, "USD", { whole: true })}</p>
                  <p>
                    <strong>Typical (median): {formatMoney(point.p50, "USD", { whole: true })}</strong>
                  </p>
                  <p>Poor markets (10th): {formatMoney(point.p10, "USD", { whole: true })}</p>
                </div>
              );
            }}
          />
          <Area
            type="monotone"
            dataKey="band"
            stroke="none"
            fill={ACCENT_SOFT}
            fillOpacity={0.9}
            isAnimationActive={false}
            name="10th–90th percentile"
          />
          <Line type="monotone" dataKey="p90" stroke="#5fa8a0" strokeWidth={1} strokeDasharray="4 3" dot={false} isAnimationActive={false} />
          <Line type="monotone" dataKey="p10" stroke="#5fa8a0" strokeWidth={1} strokeDasharray="4 3" dot={false} isAnimationActive={false} />
          <Line type="monotone" dataKey="p50" stroke={ACCENT} strokeWidth={2.5} dot={false} isAnimationActive={false} />
          {target !== null ? (
            <ReferenceLine
              y={target}
              stroke="#b45309"
              strokeDasharray="6 4"
              label={{ value: `Target ${formatMoneyCompact(targetAmount ?? target)}`, position: "insideTopLeft", fill: "#8a4b08", fontSize: 12 }}
            />
          ) : null}
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}
