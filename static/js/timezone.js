// Tells the server the browser's time zone, once: base.html loads this only for a signed-in
// person who has none yet (accounts.views.time_zone_detect keeps it only while they have none).
// Without JavaScript pages stay in UTC until the person picks a zone under Account → Time zone.
(() => {
  const script = document.currentScript || document.querySelector("script[data-time-zone-url]");
  if (!script || !window.fetch || !window.Intl) return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) return;
  const body = new URLSearchParams({ time_zone: zone });
  fetch(script.dataset.timeZoneUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRFToken": script.dataset.csrfToken, "Content-Type": "application/x-www-form-urlencoded" },
    body,
  })
    .then((response) => (response.ok ? response.json() : null))
    .then((answer) => {
      // This page was drawn in UTC: draw it again in the person's zone, unless they already
      // started typing or clicking on it.
      const untouched = !document.activeElement || document.activeElement === document.body;
      if (answer && answer.kept && answer.time_zone !== script.dataset.pageZone && untouched) {
        window.location.reload();
      }
    })
    .catch(() => {});
})();
