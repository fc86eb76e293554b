/** @jsxImportSource hono/jsx */
import { usd } from "../format.ts";

export interface DailyRow {
  day: string;
  count: number;
  cost: number;
}

/**
 * A per-day bar chart (drawn by islands/chart.js from the JSON beside it) with the same figures as a table, which is
 * also what screen readers and a page without JavaScript get. Used by the usage (spend) and provider (earnings) pages.
 */
export function DailyChart(p: {
  dataId: string;
  /** "Spend" / "Earnings": names the chart, the table and its money column */
  what: string;
  money: string;
  countLabel: string;
  label?: string;
  /** the JSON the chart island reads (the page's own rows, as the service returned them) */
  data: unknown;
  rows: DailyRow[];
}) {
  const lower = p.what.toLowerCase();
  return (
    <>
      <div
        class="chart"
        data-chart={p.dataId}
        {...(p.label ? { "data-label": p.label } : {})}
        role="img"
        aria-label={`Bar chart of ${lower} per day; the same figures are in the table below`}
      ></div>
      <script
        type="application/json"
        id={p.dataId}
        dangerouslySetInnerHTML={{ __html: JSON.stringify(p.data).replaceAll("<", "\\u003c") }}
      ></script>
      <details>
        <summary>{p.what} per day as a table</summary>
        <div class="table-wrap" tabindex={0} role="region" aria-label={`${p.what} per day table`}>
          <table>
            <thead>
              <tr>
                <th>Day</th>
                <th class="num">{p.countLabel}</th>
                <th class="num">{p.money}</th>
              </tr>
            </thead>
            <tbody>
              {[...p.rows].reverse().map((d) => (
                <tr>
                  <td>{d.day}</td>
                  <td class="num">{d.count}</td>
                  <td class="num">{usd(d.cost)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  );
}
