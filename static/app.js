// Ask once before a final or destructive action; the button or form says what will happen.
document.addEventListener("click", function (ev) {
  var el = ev.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    ev.preventDefault();
  }
});
// Sortable tables (class "sortable"): each header's text becomes a button, so the keyboard sorts as the mouse does;
// the header carries aria-sort (ascending / descending) while the table is sorted by it.
function sortBy(th) {
  var table = th.closest("table"), idx = Array.prototype.indexOf.call(th.parentNode.children, th);
  var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
  var asc = th.getAttribute("aria-sort") !== "ascending";
  rows.sort(function (a, b) {
    var x = a.cells[idx].getAttribute("data-value") || a.cells[idx].textContent.trim();
    var y = b.cells[idx].getAttribute("data-value") || b.cells[idx].textContent.trim();
    var nx = parseFloat(x), ny = parseFloat(y);
    var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y, "zh-CN");
    return asc ? c : -c;
  });
  Array.prototype.forEach.call(table.querySelectorAll("thead th"), function (h) { h.removeAttribute("aria-sort"); });
  th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  rows.forEach(function (r) { body.appendChild(r); });
}
function makeSortable(table) {
  if (!table.tHead || !table.tBodies[0] || table.tBodies[0].rows.length < 2) return;
  var headers = table.tHead.rows[table.tHead.rows.length - 1].cells;
  Array.prototype.forEach.call(headers, function (th) {
    if (!th.textContent.trim() || th.querySelector("button.sort")) return;
    var b = document.createElement("button");
    b.type = "button";
    b.className = "sort";
    while (th.firstChild) b.appendChild(th.firstChild);
    b.setAttribute("title", "按“" + b.textContent.trim() + "”排序");
    th.appendChild(b);
    b.addEventListener("click", function () { sortBy(th); });
  });
}
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
// A link of the error summary puts the focus in its field (a plain #fragment would only scroll to it).
document.addEventListener("click", function (ev) {
  var a = ev.target.closest(".error-summary a[href^='#']");
  var field = a && document.getElementById(a.getAttribute("href").slice(1));
  if (!field) return;
  ev.preventDefault();
  field.focus();
  field.scrollIntoView({ block: "center" });
});
// Enter on a checkbox ticks or clears it, as Space does, instead of submitting the form with half of it filled in.
document.addEventListener("keydown", function (ev) {
  var t = ev.target;
  if (ev.key === "Enter" && t.matches && t.matches("input[type=checkbox]") && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
    ev.preventDefault();
    t.click();
  }
});
// Wide tables scroll sideways inside a box of their own on a narrow screen; a box that scrolls takes the keyboard
// focus (arrow keys scroll it) and is named after its table's heading.
function wrapTable(table) {
  if (table.closest(".tablewrap, .gridwrap")) return;
  var box = document.createElement("div");
  box.className = "tablewrap";
  table.parentNode.insertBefore(box, table);
  box.appendChild(table);
}
function markScrolling() {
  Array.prototype.forEach.call(document.querySelectorAll(".tablewrap, .gridwrap"), function (box) {
    if (box.scrollWidth > box.clientWidth + 1) {
      var card = box.closest("section, .card"), head = card && card.querySelector("h2, h3");
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", (head ? head.textContent.trim() : document.title) + "(表格可左右滚动)");
    } else if (box.getAttribute("role") === "region") {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  });
}
// The phone's menu (below 760 px the stylesheet folds the menu and the account line behind the 菜单 button): the button
// says whether it is open (aria-expanded); Escape closes it and gives the focus back to the button.
function setupMenu() {
  var button = document.querySelector(".menu-toggle"), root = document.documentElement;
  if (!button) return;
  function show(open) {
    root.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  button.hidden = false;
  root.classList.add("menu-js");
  button.addEventListener("click", function () { show(!root.classList.contains("menu-open")); });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && root.classList.contains("menu-open")) {
      show(false);
      button.focus();
    }
  });
}
document.addEventListener("DOMContentLoaded", function () {
  setupMenu();
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
  Array.prototype.forEach.call(document.querySelectorAll("main table"), wrapTable);
  markScrolling();
  window.addEventListener("resize", markScrolling);
  // After a refused save the focus goes to what went wrong: the error summary, else the first error message.
  var problem = document.querySelector(".error-summary, .flash-error[tabindex]");
  if (problem) problem.focus();
});
