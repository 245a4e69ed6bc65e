import { useCallback, useEffect, useState } from "react";

export type Resource<T> =
  { state: "loading" } | { state: "ready"; data: T } | { state: "error"; error: unknown };

/**
 * Loads once per `key` (and again on `reload`), aborting the request when the component
 * unmounts or the key changes, so a late answer never overwrites a newer one.
 */
export function useResource<T>(
  key: string,
  load: (signal: AbortSignal) => Promise<T>,
): [Resource<T>, () => void] {
  const [resource, setResource] = useState<Resource<T>>({ state: "loading" });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setResource({ state: "loading" });
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) {
          setResource({ state: "ready", data });
        }
      },
      (error: unknown) => {
        if (!controller.signal.aborted) {
          setResource({ state: "error", error });
        }
      },
    );
    return () => controller.abort();
    // `load` is a fresh closure each render on purpose: `key` names what it loads.
  }, [key, attempt]);

  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return [resource, reload];
}
