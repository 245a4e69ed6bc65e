/** The staff area's names for the API's JSON (generated from /openapi.json, `make contract`). */
import type { components } from "../lib/api.gen.ts";

type Schemas = components["schemas"];

export type Renewal = Schemas["Renewal"];
export type Renewals = Schemas["Renewals"];
export type RenewalAtRisk = Schemas["RenewalAtRisk"];
export type RenewalsAtRisk = Schemas["RenewalsAtRisk"];
export type SyncFailure = Schemas["SyncFailure"];
export type SyncFailures = Schemas["SyncFailures"];
export type RetryAccepted = Schemas["RetryAccepted"];
export type DraftMismatch = Schemas["DraftMismatch"];
export type DraftMismatches = Schemas["DraftMismatches"];
export type DuplicateSubscription = Schemas["DuplicateSubscription"];
export type Correction = Schemas["Correction"];
export type Corrections = Schemas["Corrections"];
export type OrganizerHit = Schemas["OrganizerHit"];
export type OrganizerHits = Schemas["OrganizerHits"];
export type OrganizerState = Schemas["OrganizerState"];
