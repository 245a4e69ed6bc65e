import { describe, expect, it } from "vitest";

import { appendPage } from "./usePages.ts";

describe("appendPage", () => {
  it("keeps the order of the pages and shows an item seen twice once", () => {
    const key = (invoice: { invoice_id: string }) => invoice.invoice_id;
    const first = [{ invoice_id: "in_3" }, { invoice_id: "in_2" }];
    const second = [{ invoice_id: "in_2" }, { invoice_id: "in_1" }];
    expect(appendPage(first, second, key).map(key)).toEqual(["in_3", "in_2", "in_1"]);
  });
});
