/**
 * The SPA's names for the API's JSON: aliases of the schemas generated from /openapi.json
 * (web/src/lib/api.gen.ts, written by `make contract` from the pydantic models; `make lint`
 * fails when it is out of date). Money is integer minor units with an ISO 4217 currency;
 * instants are ISO 8601 UTC strings.
 */
import type { components } from "./api.gen.ts";

type Schemas = components["schemas"];

export type EnrollmentStatus = Schemas["OrganizerBilling"]["enrollment_status"];
export type Money = Schemas["Money"];
export type ActiveGroups = Schemas["ActiveGroups"];
export type Subscription = Schemas["Subscription"];
export type Price = Schemas["Price"];
export type ChargeEstimate = Schemas["ChargeEstimate"];
export type LastSync = Schemas["LastSync"];
export type OrganizerBilling = Schemas["OrganizerBilling"];
export type TimelineEntry = Schemas["TimelineEntry"];
export type Timeline = Schemas["Timeline"];
export type Invoice = Schemas["Invoice"];
export type Invoices = Schemas["Invoices"];
export type InvoiceDetail = Schemas["InvoiceDetail"];
export type GroupsHistory = Schemas["GroupsHistory"];
export type EnrollmentRequest = Schemas["EnrollmentRequest"];
export type CheckoutLink = Schemas["CheckoutLink"];
export type PortalLink = Schemas["PortalLink"];

/**
 * What the SPA keeps of an RFC 9457 problem (every API error's body): the SPA also makes
 * its own (network errors, non-JSON answers), which have no `type`.
 */
export type Problem = Pick<Schemas["ProblemDetails"], "title" | "status" | "detail"> &
  Partial<Pick<Schemas["ProblemDetails"], "type">>;

/** GET /config.json (served by the backend). */
export type AppConfig = Schemas["SpaConfig"];
