// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (!field) return;
  navigator.clipboard.writeText(field.value).then(() => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// "/" focuses the search box in the nav (not while typing in a field).
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
  const box = document.getElementById("nav-search");
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
});

// The inbox's live rows (data-live): no asking while the tab is hidden; the next tick after it is
// shown again asks as usual.
document.addEventListener("htmx:beforeRequest", (event) => {
  const element = event.detail && event.detail.elt;
  if (document.hidden && element && element.dataset && element.dataset.live) event.preventDefault();
});

// The nav folds into a <details> "Menu" (base.html). On wide screens CSS shows its content
// through ::details-content; where a browser cannot, the menu is opened here instead.
(() => {
  const menu = document.querySelector(".nav-menu");
  const styled = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
  if (menu && !styled && window.matchMedia("(min-width: 1280px)").matches) menu.open = true;
})();
