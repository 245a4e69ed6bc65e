/**
 * The geometry of the groups-over-time chart, pure so that it is easy to test: active
 * groups as a step line, the quantity each invoice billed as a level over its period.
 */
import { parseInstant } from "../lib/format.ts";
import type { GroupsHistory } from "../lib/types.ts";

export interface ChartBox {
  width: number;
  height: number;
  /** Room for the axis labels, left and bottom. */
  left: number;
  bottom: number;
  top: number;
  right: number;
}

// Small on purpose: scaled to the page's width, its labels stay readable at 375 px.
export const BOX: ChartBox = { width: 400, height: 180, left: 28, bottom: 24, top: 10, right: 8 };

export interface BilledLevel {
  invoiceId: string;
  x1: number;
  x2: number;
  y: number;
  quantity: number;
}

export interface ChartGeometry {
  /** The SVG path of the active-groups step line. */
  steps: string;
  billed: BilledLevel[];
  /** Horizontal grid lines and their labels (0 … the highest count). */
  ticks: { y: number; value: number }[];
  maximum: number;
}

function scale(history: GroupsHistory, box: ChartBox) {
  const start = parseInstant(history.range_start).getTime();
  const end = Math.max(parseInstant(history.range_end).getTime(), start + 1);
  const counts = history.points.map((p) => p.active_groups);
  const levels = history.billed.map((b) => b.quantity);
  const maximum = Math.max(1, ...counts, ...levels);
  const plotWidth = box.width - box.left - box.right;
  const plotHeight = box.height - box.top - box.bottom;
  const clampTime = (t: number) => Math.min(Math.max(t, start), end);
  return {
    maximum,
    x: (iso: string) =>
      box.left + ((clampTime(parseInstant(iso).getTime()) - start) / (end - start)) * plotWidth,
    y: (value: number) => box.top + plotHeight - (value / maximum) * plotHeight,
    right: box.width - box.right,
  };
}

export function chartGeometry(history: GroupsHistory, box: ChartBox = BOX): ChartGeometry {
  const { maximum, x, y, right } = scale(history, box);
  const parts: string[] = [];
  history.points.forEach((point, i) => {
    const x1 = x(point.at);
    const next = history.points[i + 1];
    const x2 = next ? x(next.at) : right;
    const level = y(point.active_groups);
    parts.push(i === 0 ? `M${round(x1)} ${round(level)}` : `V${round(level)}`, `H${round(x2)}`);
  });
  const step = maximum <= 5 ? 1 : Math.ceil(maximum / 5);
  const ticks = [];
  for (let value = 0; value <= maximum; value += step) {
    ticks.push({ y: round(y(value)), value });
  }
  return {
    steps: parts.join(" "),
    billed: history.billed.map((b) => ({
      invoiceId: b.invoice_id,
      x1: round(x(b.period_start)),
      x2: round(x(b.period_end)),
      y: round(y(b.quantity)),
      quantity: b.quantity,
    })),
    ticks,
    maximum,
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
