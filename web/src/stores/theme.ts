// Light or dark: follows prefers-color-scheme until the person picks one; the choice sits on <html data-theme>.
import { ref } from "vue";

export type ThemeChoice = "system" | "light" | "dark";
const KEY = "polyphony.theme";

function stored(): ThemeChoice {
  const value = localStorage.getItem(KEY);
  return value === "light" || value === "dark" ? value : "system";
}

export const theme = ref<ThemeChoice>(stored());

export function setTheme(choice: ThemeChoice): void {
  theme.value = choice;
  if (choice === "system") {
    localStorage.removeItem(KEY);
    delete document.documentElement.dataset.theme;
  } else {
    localStorage.setItem(KEY, choice);
    document.documentElement.dataset.theme = choice;
  }
}

/** What is on screen now, whatever the choice. */
export function effectiveTheme(): "light" | "dark" {
  if (theme.value !== "system") return theme.value;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function toggleTheme(): void {
  setTheme(effectiveTheme() === "dark" ? "light" : "dark");
}
