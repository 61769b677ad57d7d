// Ask once before a final or destructive action; the button or form says what will happen.
document.addEventListener("click", function (ev) {
  var el = ev.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    ev.preventDefault();
  }
});
// Sortable tables: click a header of a table with class "sortable".
document.addEventListener("click", function (ev) {
  var th = ev.target.closest("table.sortable th");
  if (!th) return;
  var table = th.closest("table"), idx = Array.prototype.indexOf.call(th.parentNode.children, th);
  var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
  var asc = th.getAttribute("data-sort") !== "asc";
  rows.sort(function (a, b) {
    var x = a.cells[idx].getAttribute("data-value") || a.cells[idx].textContent.trim();
    var y = b.cells[idx].getAttribute("data-value") || b.cells[idx].textContent.trim();
    var nx = parseFloat(x), ny = parseFloat(y);
    var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y, "zh-CN");
    return asc ? c : -c;
  });
  Array.prototype.forEach.call(table.querySelectorAll("th"), function (h) { h.removeAttribute("data-sort"); });
  th.setAttribute("data-sort", asc ? "asc" : "desc");
  rows.forEach(function (r) { body.appendChild(r); });
});
// Unit pickers: tick every town and street, or every department, or clear every tick.
document.addEventListener("click", function (ev) {
  var b = ev.target.closest("[data-pick]");
  if (!b) return;
  var box = b.closest("fieldset"), what = b.getAttribute("data-pick");
  var towns = (box.getAttribute("data-townships") || "").split(",");
  Array.prototype.forEach.call(box.querySelectorAll("input[type=checkbox]"), function (c) {
    if (what === "none") c.checked = false;
    else if ((what === "township") === (towns.indexOf(c.value) >= 0)) c.checked = true;
  });
});
