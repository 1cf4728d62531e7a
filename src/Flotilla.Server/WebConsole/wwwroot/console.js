// Flotilla console: every second, fetch console/state.json and swap in the fragments the server rendered
// (leader line, member table, shard tables, charts). The page works without this script; it only keeps it fresh.
(function () {
  "use strict";
  var base = document.currentScript ? document.currentScript.src.replace(/console\.js(\?.*)?$/, "") : "console/";
  var failures = 0;
  function apply(state) {
    var fragments = state.html || {};
    Object.keys(fragments).forEach(function (id) {
      var element = document.getElementById(id);
      // Only replace what changed: an aria-live region re-announces on every write.
      if (element && element.innerHTML !== fragments[id]) element.innerHTML = fragments[id];
    });
    document.body.setAttribute("data-leader", state.leader == null ? "" : String(state.leader));
  }
  function poll() {
    fetch(base + "state.json", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (state) { failures = 0; apply(state); })
      .catch(function () {
        failures++;
        var updated = document.getElementById("updated");
        if (updated) updated.textContent = "this member does not answer (" + failures + " tries); the numbers below are old";
      })
      .finally(function () { setTimeout(poll, 1000); });
  }
  setTimeout(poll, 1000);
})();
