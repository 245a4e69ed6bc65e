import { describe, expect, it } from "vitest";

import {
  formatDate,
  formatDateTime,
  formatMoney,
  formatPeriod,
  formattersFor,
  groups,
  humanize,
  minorToDecimal,
  parseInstant,
} from "./format.ts";

/** Intl separates with (narrow) no-break spaces; compare with plain ones. */
const plain = (text: string): string => text.replace(/\s/g, " ");

describe("minorToDecimal", () => {
  it("places the decimal point without floating point", () => {
    expect(minorToDecimal(4900, 2)).toBe("49.00");
    expect(minorToDecimal(5, 2)).toBe("0.05");
    expect(minorToDecimal(-1234, 2)).toBe("-12.34");
    expect(minorToDecimal(1999, 0)).toBe("1999");
    expect(minorToDecimal(1, 3)).toBe("0.001");
  });

  it("is exact where floats are not", () => {
    // 0.1 + 0.2 style errors: 2^53 - 1 cents still prints every digit.
    expect(minorToDecimal(Number.MAX_SAFE_INTEGER, 2)).toBe("90071992547409.91");
  });

  it("refuses fractions of a minor unit", () => {
    expect(() => minorToDecimal(1.5, 2)).toThrow(RangeError);
  });
});

describe("formatMoney", () => {
  it("formats euros from cents in the given locale", () => {
    expect(formatMoney(4900, "eur", "en-US")).toBe("€49.00");
    expect(plain(formatMoney(123450, "eur", "de-DE"))).toBe("1.234,50 €");
  });

  it("knows currencies without minor units", () => {
    expect(formatMoney(500, "jpy", "en-US")).toBe("¥500");
  });

  it("keeps the sign of credits", () => {
    expect(formatMoney(-250, "usd", "en-US")).toBe("-$2.50");
  });
});

describe("parseInstant", () => {
  it("reads offsets and Z alike", () => {
    expect(parseInstant("2025-06-01T00:00:00Z").toISOString()).toBe("2025-06-01T00:00:00.000Z");
    expect(parseInstant("2025-06-01T02:00:00+02:00").toISOString()).toBe(
      "2025-06-01T00:00:00.000Z",
    );
  });

  it("reads a time without an offset as UTC, not local time", () => {
    expect(parseInstant("2025-06-01T00:00:00").toISOString()).toBe("2025-06-01T00:00:00.000Z");
  });

  it("refuses what is not a date", () => {
    expect(() => parseInstant("soon")).toThrow(RangeError);
  });
});

describe("formatDate", () => {
  it("runs west of UTC (vite.config.ts sets TZ), where local time would be the day before", () => {
    expect(new Date("2025-06-01T00:00:00Z").getDate()).toBe(31);
  });

  it("shows the UTC calendar day, whatever the browser's zone", () => {
    // Midnight UTC is still May 31 in New York; a renewal on June 1 must read June 1.
    expect(formatDate("2025-06-01T00:00:00Z", "en-US")).toBe("Jun 1, 2025");
    expect(formatDate("2025-06-01T00:00:00+00:00", "en-GB")).toBe("1 Jun 2025");
  });

  it("follows the locale", () => {
    expect(formatDate("2025-05-03T14:05:00Z", "de-DE")).toBe("03.05.2025");
  });
});

describe("formatDateTime", () => {
  it("labels the time as UTC", () => {
    expect(plain(formatDateTime("2025-05-03T14:05:00Z", "en-US"))).toBe("May 3, 2025, 2:05 PM UTC");
  });
});

describe("formatPeriod", () => {
  it("writes a period as Intl writes a range, in UTC days", () => {
    expect(plain(formatPeriod("2025-05-01T00:00:00Z", "2025-06-01T00:00:00Z", "en-GB"))).toBe(
      "1 May – 1 Jun 2025",
    );
    expect(plain(formatPeriod("2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z", "en-US"))).toBe(
      "Dec 1, 2025 – Jan 1, 2026",
    );
  });
});

describe("formattersFor", () => {
  it("binds every formatter to one locale", () => {
    const de = formattersFor("de-DE");
    expect(plain(de.money(4900, "eur"))).toBe("49,00 €");
    expect(de.date("2025-05-03T14:05:00Z")).toBe("03.05.2025");
    expect(plain(de.period("2025-05-01T00:00:00Z", "2025-06-01T00:00:00Z"))).toBe(
      "01.05. – 01.06.2025",
    );
  });
});

describe("words", () => {
  it("counts groups", () => {
    expect(groups(1)).toBe("1 group");
    expect(groups(7)).toBe("7 groups");
    expect(groups(0)).toBe("0 groups");
  });

  it("humanizes status words", () => {
    expect(humanize("past_due")).toBe("Past due");
    expect(humanize("paid")).toBe("Paid");
  });
});
