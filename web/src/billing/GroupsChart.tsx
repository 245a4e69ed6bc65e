import { useId } from "react";

import { groups } from "../lib/format.ts";
import { useFormat } from "../lib/locale.tsx";
import type { GroupsHistory } from "../lib/types.ts";
import { BOX, chartGeometry } from "./chart.ts";

/**
 * Active groups over time (a step line) with the quantity each invoice billed laid over
 * it (dashed levels). Plain SVG with a title and a description; the same numbers follow
 * as a table for screen readers and anyone who prefers reading them.
 */
export function GroupsChart({ history }: { history: GroupsHistory }) {
  const format = useFormat();
  const id = useId();
  const geometry = chartGeometry(history);
  const first = history.points[0];
  const last = history.points[history.points.length - 1];
  const summary =
    first && last
      ? `From ${format.date(history.range_start)} to ${format.date(history.range_end)}: ` +
        `${groups(first.active_groups)} at the start, ${groups(last.active_groups)} at the end.`
      : "No group changes in this range.";
  return (
    <figure className="groups-chart">
      <svg
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        viewBox={`0 0 ${BOX.width} ${BOX.height}`}
        style={{ width: "100%", height: "auto", maxWidth: `${BOX.width * 1.4}px` }}
      >
        <title id={`${id}-title`}>
          Active groups over time, and the groups each invoice billed
        </title>
        <desc id={`${id}-desc`}>{summary}</desc>
        {geometry.ticks.map((tick) => (
          <g key={tick.value}>
            <line
              x1={BOX.left}
              x2={BOX.width - BOX.right}
              y1={tick.y}
              y2={tick.y}
              stroke="currentColor"
              strokeOpacity={0.15}
            />
            <text
              x={BOX.left - 6}
              y={tick.y + 4}
              textAnchor="end"
              fontSize={12}
              fill="currentColor"
            >
              {tick.value}
            </text>
          </g>
        ))}
        <text x={BOX.left} y={BOX.height - 8} fontSize={12} fill="currentColor">
          {format.date(history.range_start)}
        </text>
        <text
          x={BOX.width - BOX.right}
          y={BOX.height - 8}
          textAnchor="end"
          fontSize={12}
          fill="currentColor"
        >
          {format.date(history.range_end)}
        </text>
        <path d={geometry.steps} fill="none" stroke="#2563eb" strokeWidth={2.5} />
        {geometry.billed.map((level) => (
          <line
            key={level.invoiceId}
            data-testid="billed-level"
            x1={level.x1}
            x2={level.x2}
            y1={level.y}
            y2={level.y}
            stroke="#b45309"
            strokeWidth={2}
            strokeDasharray="6 4"
          />
        ))}
      </svg>
      <figcaption className="muted">
        <span aria-hidden="true" style={{ color: "#2563eb" }}>
          ━
        </span>{" "}
        Active groups{" "}
        <span aria-hidden="true" style={{ color: "#b45309" }}>
          ╍
        </span>{" "}
        Groups billed per period
      </figcaption>
      <details>
        <summary>Show the numbers as a table</summary>
        <GroupsTable history={history} />
      </details>
    </figure>
  );
}

/** The chart's numbers: the count from each instant on, then what each period billed. */
export function GroupsTable({ history }: { history: GroupsHistory }) {
  const format = useFormat();
  const points = history.points.map((p) => ({
    key: p.at,
    label: format.dateTime(p.at),
    value: p.active_groups,
  }));
  const billed = history.billed.map((b) => ({
    key: b.invoice_id,
    label: format.period(b.period_start, b.period_end),
    value: b.quantity,
  }));
  return (
    <>
      <CountTable caption="Active groups" heads={["From", "Active groups"]} rows={points} />
      {billed.length > 0 && (
        <CountTable caption="Groups billed" heads={["Period", "Groups billed"]} rows={billed} />
      )}
    </>
  );
}

interface CountRow {
  key: string;
  label: string;
  value: number;
}

function CountTable({
  caption,
  heads,
  rows,
}: {
  caption: string;
  heads: [string, string];
  rows: CountRow[];
}) {
  const [labelHead, valueHead] = heads;
  return (
    <table className="invoices">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{labelHead}</th>
          <th scope="col">{valueHead}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.key}>
            <th scope="row" data-label={labelHead}>
              {row.label}
            </th>
            <td data-label={valueHead}>{row.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
