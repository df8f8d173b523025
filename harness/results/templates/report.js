// The device table: click a column heading to sort by it, type or pick to filter. Our own few
// lines, inline, so the report needs no download and opens offline. A link may carry the view:
// index.html#verdict=FAULT&type=GSME&q=tamper&sort=Why&order=descending.
(function () {
  "use strict";
  var table = document.getElementById("devices");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var text = document.getElementById("device-filter");
  var verdict = document.getElementById("verdict-filter");
  var type = document.getElementById("type-filter");
  var shown = document.getElementById("device-count");

  function key(row, col) {
    var cell = row.cells[col];
    return cell.getAttribute("data-sort") || cell.textContent.trim();
  }

  function compare(a, b, numeric) {
    if (numeric) { return (parseFloat(a) || 0) - (parseFloat(b) || 0); }
    return a.localeCompare(b, undefined, {numeric: true, sensitivity: "base"});
  }

  var headings = Array.prototype.slice.call(table.tHead.rows[0].cells);

  function sortBy(col, ascending) {
    var th = headings[col];
    headings.forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var numeric = th.classList.contains("num");
    rows.sort(function (a, b) {
      var order = compare(key(a, col), key(b, col), numeric);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  headings.forEach(function (th, col) {
    var button = th.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      sortBy(col, th.getAttribute("aria-sort") !== "ascending");
    });
  });

  function filter() {
    var words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
    var count = 0;
    rows.forEach(function (row) {
      var content = row.textContent.toLowerCase();
      var ok = words.every(function (w) { return content.indexOf(w) >= 0; }) &&
        (!verdict.value || row.getAttribute("data-verdict") === verdict.value) &&
        (!type.value || row.getAttribute("data-type") === type.value);
      row.hidden = !ok;
      count += ok ? 1 : 0;
    });
    shown.textContent = count + " of " + rows.length + " device(s) shown";
  }

  [text, verdict, type].forEach(function (el) { el.addEventListener("input", filter); });
  var view = {};
  location.hash.replace(/^#/, "").split("&").forEach(function (part) {
    var pair = part.split("=");
    if (pair[0]) { view[decodeURIComponent(pair[0])] = decodeURIComponent(pair[1] || ""); }
  });
  if (view.q) { text.value = view.q; }
  if (view.verdict) { verdict.value = view.verdict; }
  if (view.type) { type.value = view.type; }
  if (view.sort) {
    headings.forEach(function (th, col) {
      if (th.textContent.trim() === view.sort) { sortBy(col, view.order !== "descending"); }
    });
  }
  filter();
}());
