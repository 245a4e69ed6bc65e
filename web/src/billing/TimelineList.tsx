import type { TimelineItem } from "../lib/timeline.ts";

/** The timeline as an ordered list, newest first. Pure: easy to render in a unit test. */
export function TimelineList({ items }: { items: TimelineItem[] }) {
  return (
    <ol className="timeline">
      {items.map((item) => (
        <li key={item.key} className="timeline__entry">
          <time dateTime={item.at} className="timeline__when">
            {item.when}
          </time>
          <h3 className="timeline__title">
            {item.title}
            {item.repeats > 1 && <span className="muted"> ({item.repeats} times)</span>}
          </h3>
          <p className="timeline__description">{item.description}</p>
          {item.consequence && <p className="timeline__consequence">{item.consequence}</p>}
          {item.period && (
            <p className="timeline__period">
              <span className="visually-hidden">Period: </span>
              {item.period}
            </p>
          )}
          {item.amount && (
            <p className="timeline__amount">
              <span className="visually-hidden">Amount: </span>
              {item.amount}
              {item.breakdown && <span className="muted"> ({item.breakdown})</span>}
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}
