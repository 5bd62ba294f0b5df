import { Cell, Pie, PieChart, ResponsiveContainer, Tooltip } from "recharts";

import { assetClassLabel } from "../../lib/choices";
import { formatPercent } from "../../lib/format";
import { assetClassColor } from "./colors";

export interface Slice {
  assetClass: string;
  weight: number; // chart-only fraction
}

export default function AllocationDonut({ slices, summary }: { slices: Slice[]; summary: string }) {
  const data = slices.filter((s) => s.weight > 0);
  return (
    <div className="chart donut" role="img" aria-label={summary}>
      <ResponsiveContainer width="100%" height={200}>
        <PieChart>
          <Pie
            data={data}
            dataKey="weight"
            nameKey="assetClass"
            innerRadius="62%"
            outerRadius="95%"
            paddingAngle={1}
            stroke="#fff"
            isAnimationActive={false}
          >
            {data.map((slice) => (
              <Cell key={slice.assetClass} fill={assetClassColor(slice.assetClass)} />
            ))}
          </Pie>
          <Tooltip
            formatter={(value, name) => [formatPercent(Number(value)), assetClassLabel(String(name))]}
            contentStyle={{ borderRadius: 8 }}
          />
        </PieChart>
      </ResponsiveContainer>
    </div>
  );
}
