// Draws a dollars-per-day bar chart (spend, or a provider's earnings) with uPlot from the JSON data block beside it
// ({day, cost} rows, micro-USD); the table below is the fallback.
for (const holder of document.querySelectorAll("[data-chart]")) {
  const data = JSON.parse(document.getElementById(holder.getAttribute("data-chart")).textContent);
  const days = data.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
  // Days without spend are gaps, not zero-height bars (which uPlot would still outline).
  const usd = data.map((d) => (d.cost > 0 ? d.cost / 1e6 : null));
  const width = () => Math.max(280, holder.clientWidth);
  const bars = uPlot.paths.bars({ size: [0.7, 40] });
  const plot = new uPlot(
    {
      width: width(),
      height: 220,
      // Half a day of margin each side, so the first and last bars are drawn whole.
      scales: {
        x: { time: true, range: (_u, min, max) => [min - 43200, max + 43200] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [{}, { values: (_u, ticks) => ticks.map((t) => `$${t.toFixed(t < 0.01 ? 6 : 2)}`), size: 80 }],
      series: [
        {},
        {
          label: holder.getAttribute("data-label") || "Spend (USD)",
          stroke: "#1b5fd1",
          fill: "rgba(27,95,209,.35)",
          paths: bars,
          points: { show: false },
        },
      ],
      legend: { show: false },
    },
    [days, usd],
    holder,
  );
  window.addEventListener("resize", () => plot.setSize({ width: width(), height: 220 }));
}
