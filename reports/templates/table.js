/* grn-bench: sortable tables. Click (or Enter on) a header to sort; click again to reverse.
   Cells sort by their data-sort attribute when present (numbers), else by their text. Empty values sort last. */
(function () {
  "use strict";
  function value(cell) {
    var v = cell.getAttribute("data-sort");
    return v === null ? cell.textContent.trim() : v;
  }
  function isNumber(v) { return v !== "" && isFinite(Number(v)); }
  function sortTable(table, col, dir) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = rows.every(function (r) { var v = value(r.cells[col]); return v === "" || isNumber(v); });
    rows.sort(function (a, b) {
      var x = value(a.cells[col]), y = value(b.cells[col]);
      if (x === "" || y === "") { return x === y ? 0 : (x === "" ? 1 : -1); }
      if (numeric) { return (Number(x) - Number(y)) * dir; }
      return x.localeCompare(y) * dir;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (i === col) { th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending"); }
      else { th.removeAttribute("aria-sort"); }
    });
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      if (!table.tHead || !table.tBodies.length) { return; }
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
        th.tabIndex = 0;
        th.title = "sort by this column";
        var go = function () {
          var cur = th.getAttribute("aria-sort");
          var first = th.getAttribute("data-first") === "desc" ? -1 : 1;
          sortTable(table, i, cur === null ? first : (cur === "ascending" ? -1 : 1));
        };
        th.addEventListener("click", go);
        th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
