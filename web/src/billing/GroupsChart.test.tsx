import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { LocaleContext } from "../lib/locale.tsx";
import type { GroupsHistory } from "../lib/types.ts";
import { BOX, chartGeometry } from "./chart.ts";
import { GroupsChart } from "./GroupsChart.tsx";

const HISTORY: GroupsHistory = {
  range_start: "2025-06-01T00:00:00Z",
  range_end: "2025-07-01T00:00:00Z",
  granularity: "change",
  points: [
    { at: "2025-06-01T00:00:00Z", active_groups: 2 },
    { at: "2025-06-16T00:00:00Z", active_groups: 4 },
  ],
  billed: [
    {
      invoice_id: "in_1",
      period_start: "2025-06-01T00:00:00Z",
      period_end: "2025-07-01T00:00:00Z",
      quantity: 3,
    },
  ],
};
const plain = (text: string): string => text.replace(/\s/g, " ");

describe("chartGeometry", () => {
  it("draws active groups as steps across the range", () => {
    const { steps, maximum } = chartGeometry(HISTORY);
    expect(maximum).toBe(4);
    const middle = BOX.left + (BOX.width - BOX.left - BOX.right) / 2;
    const levelOf = (n: number) => BOX.top + (BOX.height - BOX.top - BOX.bottom) * (1 - n / 4);
    expect(steps).toBe(
      `M${BOX.left} ${levelOf(2)} H${middle} V${levelOf(4)} H${BOX.width - BOX.right}`,
    );
  });

  it("lays each billed period over its dates at its quantity", () => {
    const [level] = chartGeometry(HISTORY).billed;
    expect(level).toMatchObject({ invoiceId: "in_1", x1: BOX.left, x2: BOX.width - BOX.right });
    expect(level?.quantity).toBe(3);
  });

  it("clips a period that starts before the range", () => {
    const early = {
      ...HISTORY,
      billed: [{ ...HISTORY.billed[0]!, period_start: "2025-05-01T00:00:00Z" }],
    };
    expect(chartGeometry(early).billed[0]?.x1).toBe(BOX.left);
  });

  it("keeps a scale when there are no groups at all", () => {
    const empty = {
      ...HISTORY,
      points: [{ at: HISTORY.range_start, active_groups: 0 }],
      billed: [],
    };
    expect(chartGeometry(empty).ticks.map((t) => t.value)).toEqual([0, 1]);
  });
});

describe("GroupsChart", () => {
  const html = plain(
    renderToStaticMarkup(
      <LocaleContext.Provider value="en-GB">
        <GroupsChart history={HISTORY} />
      </LocaleContext.Provider>,
    ),
  );

  it("is an accessible image with a title and a summary", () => {
    expect(html).toMatch(/<svg role="img" aria-labelledby="[^"]+-title [^"]+-desc"/);
    expect(html).toContain("<title");
    expect(html).toContain(
      "From 1 Jun 2025 to 1 Jul 2025: 2 groups at the start, 4 groups at the end.",
    );
  });

  it("has a table fallback with every point and every billed period", () => {
    expect(html).toContain("<summary>Show the numbers as a table</summary>");
    expect(html).toContain('<td data-label="Active groups">2</td>');
    expect(html).toContain('<td data-label="Active groups">4</td>');
    expect(html).toContain('<td data-label="Groups billed">3</td>');
  });
});
