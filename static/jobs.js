// A background job the page waits for (the held meeting's briefing archive): poll its JSON status and show the
// result when it is there, without holding the request that started it.
(function () {
  var el = document.querySelector("[data-poll]");
  if (!el) return;
  var url = el.getAttribute("data-poll"), tries = 0;
  function poll() {
    tries += 1;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.state === "done" || s.state === "failed") {
          window.location.reload();
        } else if (tries < 400) {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () { if (tries < 400) window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
