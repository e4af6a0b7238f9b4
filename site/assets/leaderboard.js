// Leaderboard tables: sort by any column (click a header), hide or show reported rows, filter judges
// by kind, weights, a text search and how the row was obtained ("reproduced only").
// Reads only the page's own markup; values to sort by are in data-sort attributes.
"use strict";

(function () {
  function sortValue(cell, numeric) {
    var raw = cell.getAttribute("data-sort");
    if (raw === null) raw = cell.textContent.trim();
    if (raw === "") return null; // missing values sort last in both directions
    return numeric ? parseFloat(raw) : raw.toLowerCase();
  }

  function sortTable(table, column, header) {
    var numeric = header.getAttribute("data-type") === "num";
    var current = header.getAttribute("aria-sort");
    // Numbers start high-to-low (best first), text A to Z; a second click reverses.
    var descending = current ? current === "ascending" : numeric;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, index) {
      var cell = row.cells[column];
      // data-sort-group: figures of another kind (an AUROC over only some rows) sort after the rest,
      // in either direction, never between them.
      var group = parseInt(cell.getAttribute("data-sort-group") || "0", 10);
      return { row: row, index: index, group: group, value: sortValue(cell, numeric) };
    });
    keyed.sort(function (a, b) {
      if (a.value === null || b.value === null) {
        if (a.value === b.value) return a.index - b.index;
        return a.value === null ? 1 : -1;
      }
      if (a.group !== b.group) return a.group - b.group;
      if (a.value < b.value) return descending ? 1 : -1;
      if (a.value > b.value) return descending ? -1 : 1;
      return a.index - b.index;
    });
    keyed.forEach(function (item) { body.appendChild(item.row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, column) {
      var button = header.querySelector("button");
      if (button) button.addEventListener("click", function () { sortTable(table, column, header); });
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("input.show-reported"), function (box) {
    var table = box.closest("section").querySelector("table");
    box.addEventListener("change", function () {
      table.classList.toggle("hide-reported", !box.checked);
    });
  });

  var filters = document.getElementById("board-filters");
  if (filters) {
    var counter = document.getElementById("filter-count");
    var applyFilters = function () {
      var kind = filters.elements.kind.value, weights = filters.elements.weights.value;
      var reproducedOnly = filters.elements.reproduced.checked;
      var words = filters.elements.q.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      var rows = document.querySelectorAll("table.leaderboard tbody tr");
      var shown = 0;
      Array.prototype.forEach.call(rows, function (row) {
        var text = row.getAttribute("data-search") || "";
        var keep = (!kind || row.getAttribute("data-card-kind") === kind) &&
          (!weights || row.getAttribute("data-weights") === weights) &&
          (!reproducedOnly || row.getAttribute("data-provenance") === "reproduced") &&
          words.every(function (word) { return text.indexOf(word) >= 0; });
        row.classList.toggle("filtered-out", !keep);
        if (keep) shown += 1;
      });
      var filtered = kind || weights || reproducedOnly || words.length;
      counter.textContent = filtered ? shown + " of " + rows.length + " rows shown" : "";
    };
    filters.addEventListener("change", applyFilters);
    filters.elements.q.addEventListener("input", applyFilters);
    filters.addEventListener("submit", function (event) { event.preventDefault(); });
  }
})();
