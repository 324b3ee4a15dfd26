// Chart.js (MIT), registered once with only the parts the statistics page draws, so the bundle stays small.
import { BarElement, CategoryScale, Chart, LinearScale, PointElement, Tooltip } from "chart.js";

Chart.register(BarElement, CategoryScale, LinearScale, PointElement, Tooltip);

/** The accent colour of the current theme, for the charts' bars. */
export function accentColor(alpha = 1): string {
  const accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#6c5ce7";
  return alpha === 1 ? accent : `color-mix(in srgb, ${accent} ${Math.round(alpha * 100)}%, transparent)`;
}
