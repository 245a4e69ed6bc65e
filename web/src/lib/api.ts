/**
 * The organizer API client. Every error is RFC 9457 problem+json; a 401 means the session
 * is over, and is reported through `onUnauthorized` before the promise rejects.
 */
import type {
  CheckoutLink,
  EnrollmentRequest,
  GroupsHistory,
  InvoiceDetail,
  Invoices,
  OrganizerBilling,
  PortalLink,
  Problem,
  Timeline,
} from "./types.ts";

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string | null;

  constructor(problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = "ApiError";
    this.status = problem.status;
    this.title = problem.title;
    this.detail = problem.detail ?? null;
  }
}

/** The session ended (401 from the API); the app is already on its way to sign-in. */
export class SessionExpiredError extends ApiError {}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** A problem from a failed response: its problem+json body, else the HTTP status line. */
export async function problemOf(response: Response): Promise<Problem> {
  const fallback: Problem = {
    title: response.statusText || "Request failed",
    status: response.status,
    detail: `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}.`,
  };
  const type = response.headers.get("content-type") ?? "";
  if (!type.includes("json")) {
    return fallback;
  }
  try {
    const body: unknown = await response.json();
    if (typeof body !== "object" || body === null) {
      return fallback;
    }
    const { title, detail } = body as Record<string, unknown>;
    return {
      title: typeof title === "string" ? title : fallback.title,
      status: response.status,
      detail: typeof detail === "string" ? detail : (fallback.detail ?? null),
    };
  } catch {
    return fallback;
  }
}

/** Which page of a keyset-paged list: `cursor` is the previous page's `next_cursor`. */
export interface PageRequest {
  cursor?: string | null;
  limit?: number;
}

export interface ApiOptions {
  base: string;
  token: string;
  onUnauthorized: (problem: Problem) => void;
  fetchFn?: Fetch;
}

export class Api {
  readonly #base: string;
  readonly #token: string;
  readonly #onUnauthorized: (problem: Problem) => void;
  readonly #fetch: Fetch;

  constructor(options: ApiOptions) {
    this.#base = options.base;
    this.#token = options.token;
    this.#onUnauthorized = options.onUnauthorized;
    this.#fetch = options.fetchFn ?? ((input, init) => fetch(input, init));
  }

  billing(organizerId: string, signal?: AbortSignal): Promise<OrganizerBilling> {
    return this.#request("GET", this.#organizer(organizerId), undefined, signal);
  }

  timeline(organizerId: string, page: PageRequest = {}, signal?: AbortSignal): Promise<Timeline> {
    return this.#page(organizerId, "timeline", page, signal);
  }

  invoices(organizerId: string, page: PageRequest = {}, signal?: AbortSignal): Promise<Invoices> {
    return this.#page(organizerId, "invoices", page, signal);
  }

  invoice(organizerId: string, invoiceId: string, signal?: AbortSignal): Promise<InvoiceDetail> {
    const path = `${this.#organizer(organizerId)}/invoices/${encodeURIComponent(invoiceId)}`;
    return this.#request("GET", path, undefined, signal);
  }

  groupsHistory(
    organizerId: string,
    range: { from?: string; to?: string } = {},
    signal?: AbortSignal,
  ): Promise<GroupsHistory> {
    const query = new URLSearchParams(range);
    return this.#request(
      "GET",
      `${this.#organizer(organizerId)}/groups/history?${query}`,
      undefined,
      signal,
    );
  }

  /** One page of a keyset-paged organizer list: `cursor` is the previous `next_cursor`. */
  #page<T>(organizerId: string, list: string, page: PageRequest, signal?: AbortSignal): Promise<T> {
    const query = new URLSearchParams();
    if (page.cursor) {
      query.set("cursor", page.cursor);
    }
    query.set("limit", String(page.limit ?? 20));
    return this.#request(
      "GET",
      `${this.#organizer(organizerId)}/${list}?${query}`,
      undefined,
      signal,
    );
  }

  enroll(organizerId: string, body: EnrollmentRequest): Promise<CheckoutLink> {
    return this.#request("POST", `${this.#organizer(organizerId)}/enrollment`, body);
  }

  portal(organizerId: string): Promise<PortalLink> {
    return this.#request("POST", `${this.#organizer(organizerId)}/portal-session`, {});
  }

  /** A GET of any documented route, e.g. the staff area's lists (web/src/staff/). */
  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.#request("GET", path, undefined, signal);
  }

  /** A POST of any documented route (the staff area's retry). */
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.#request("POST", path, body);
  }

  #organizer(organizerId: string): string {
    return `/api/organizers/${encodeURIComponent(organizerId)}`;
  }

  async #request<T>(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    const headers: Record<string, string> = {
      Accept: "application/json, application/problem+json",
      Authorization: `Bearer ${this.#token}`,
    };
    const init: RequestInit = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (signal) {
      init.signal = signal;
    }
    let response: Response;
    try {
      response = await this.#fetch(`${this.#base}${path}`, init);
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") {
        throw error;
      }
      throw new ApiError({
        title: "Network error",
        status: 0,
        detail: "The billing service could not be reached. Check your connection and try again.",
      });
    }
    if (!response.ok) {
      const problem = await problemOf(response);
      if (response.status === 401) {
        this.#onUnauthorized(problem);
        throw new SessionExpiredError(problem);
      }
      throw new ApiError(problem);
    }
    // The API's bodies are the schemas.py models; the server is trusted to send them.
    return (await response.json()) as T;
  }
}
