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
        style={{ width: "100%", height: "auto", maxWidth: `${BOX.width}px` }}
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
              fontSize={11}
              fill="currentColor"
            >
              {tick.value}
            </text>
          </g>
        ))}
        <text x={BOX.left} y={BOX.height - 8} fontSize={11} fill="currentColor">
          {format.date(history.range_start)}
        </text>
        <text
          x={BOX.width - BOX.right}
          y={BOX.height - 8}
          textAnchor="end"
          fontSize={11}
          fill="currentColor"
        >
          {format.date(history.range_end)}
        </text>
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
        <path d={geometry.steps} fill="none" stroke="#2563eb" strokeWidth={2.5} />
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
  return (
    <>
      <table className="invoices groups-table">
        <caption>Active groups</caption>
        <thead>
          <tr>
            <th scope="col">From</th>
            <th scope="col">Active groups</th>
          </tr>
        </thead>
        <tbody>
          {history.points.map((point) => (
            <tr key={point.at}>
              <th scope="row" data-label="From">
                {format.dateTime(point.at)}
              </th>
              <td data-label="Active groups">{point.active_groups}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {history.billed.length > 0 && (
        <table className="invoices billed-table">
          <caption>Groups billed</caption>
          <thead>
            <tr>
              <th scope="col">Period</th>
              <th scope="col">Groups billed</th>
            </tr>
          </thead>
          <tbody>
            {history.billed.map((period) => (
              <tr key={period.invoice_id}>
                <th scope="row" data-label="Period">
                  {format.period(period.period_start, period.period_end)}
                </th>
                <td data-label="Groups billed">{period.quantity}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
