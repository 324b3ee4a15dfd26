// Chart.js parts the audio feature dashboard adds to the statistics page's (util/charts.ts), and the
// theme's colours for axes and grids, read again whenever the theme changes.
import { Chart, LineElement } from "chart.js";
import { theme } from "../stores/theme.ts";
import { accentColor } from "./charts.ts";

Chart.register(LineElement);

/** Options shared by the dashboard's charts, in the colours of the theme on screen. */
export function themedOptions() {
  void theme.value; // a dependency: computed options are rebuilt when the theme is toggled
  const style = getComputedStyle(document.documentElement);
  const text = style.getPropertyValue("--muted").trim() || "#666";
  const grid = style.getPropertyValue("--border").trim() || "#ddd";
  const axis = { ticks: { color: text }, grid: { color: grid }, title: { color: text, display: false, text: "" } };
  return { animation: false as const, responsive: true, maintainAspectRatio: false, color: text, axis };
}

/** The theme's accent (see accentColor), read again when the theme is toggled. */
export function themedAccent(alpha = 1): string {
  void theme.value;
  return accentColor(alpha);
}
