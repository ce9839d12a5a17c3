// Light/dark theme (issue 15): follows the system (prefers-color-scheme) until the user picks one
// with the toggle; the choice is kept in localStorage.

const KEY = "f1a-theme";

function stored() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: follow the system
  }
}

export function currentTheme() {
  const t = stored();
  if (t === "dark" || t === "light") return t;
  return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function apply(theme, button) {
  document.documentElement.dataset.theme = theme;
  if (button) {
    button.setAttribute("aria-pressed", String(theme === "dark"));
    button.textContent = theme === "dark" ? "☀ Light" : "☾ Dark";
    button.setAttribute("aria-label", theme === "dark" ? "Switch to the light theme" : "Switch to the dark theme");
  }
}

/** Wires the toggle button; ``onChange`` redraws charts whose colours come from the theme. */
export function initTheme(button, onChange = () => {}) {
  apply(currentTheme(), button);
  button.addEventListener("click", () => {
    const next = currentTheme() === "dark" ? "light" : "dark";
    try {
      localStorage.setItem(KEY, next);
    } catch {
      // not kept: applies to this page only
    }
    apply(next, button);
    onChange(next);
  });
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
      if (!stored()) { apply(currentTheme(), button); onChange(currentTheme()); }
    });
  }
}
