// Sample explorer: filters over a run's index, one page of judgments at a time (data via data.js).
// Everything shown from the data goes through textContent: passages and judge replies are untrusted.
"use strict";

(function () {
  var PAGE = 20, LONG = 600;
  var root = document.getElementById("explorer");
  var base = root.getAttribute("data-base");
  var form = document.getElementById("filters");
  var list = document.getElementById("rows");
  var countLine = document.getElementById("count");
  var prev = document.getElementById("prev"), next = document.getElementById("next");
  var runKey = root.getAttribute("data-index").replace(/\/index$/, "");
  var rowView = root.getAttribute("data-rowview");
  var index = null, matches = [], page = 0, generation = 0;
  var other = null; // verdict label per row id of the judge chosen under "disagrees with"

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // A run's index holds packed columns: gold, verdict (-1: none), status, text (position in the task's
  // texts), group (one per breakdown), as positions in the index's lists; its row ids are in a file of
  // their own (shared by the runs with the same rows). openIndex gives them unpacked.
  var opened = {};
  function openIndex(key) {
    if (!opened[key]) {
      opened[key] = halubenchData.load(base, key).then(function (data) {
        return halubenchData.load(base, data.ids).then(function (ids) {
          var column = halubenchData.column;
          return {
            ids: ids, labels: data.labels, statuses: data.statuses, breakdowns: data.breakdowns,
            gold: column(data.gold), verdict: column(data.verdict), status: column(data.status),
            text: column(data.text), group: data.group.map(column), texts: data.texts,
            textShardRows: data.textShardRows, replyShardRows: data.replyShardRows
          };
        });
      });
    }
    return opened[key];
  }

  function fillSelect(select, values) {
    values.forEach(function (value, i) {
      var option = el("option", null, value === "" ? "(none)" : value);
      option.value = String(i);
      select.appendChild(option);
    });
  }

  function addBreakdownFilters() {
    index.breakdowns.slice().reverse().forEach(function (breakdown, reversed) {
      var label = el("label", null, breakdown.name + " ");
      var select = el("select");
      select.name = "group-" + breakdown.name;
      select.setAttribute("data-breakdown", String(index.breakdowns.length - 1 - reversed));
      var all = el("option", null, "all");
      all.value = "";
      select.appendChild(all);
      fillSelect(select, breakdown.groups);
      label.appendChild(select);
      form.insertBefore(label, form.firstChild);
    });
  }

  function applyFilters() {
    var f = form.elements;
    var gold = f.gold.value, outcome = f.outcome.value, status = f.status.value;
    var needle = f.id.value.trim().toLowerCase();
    var groupFilters = Array.prototype.filter.call(form.querySelectorAll("select[data-breakdown]"), function (s) {
      return s.value !== "";
    }).map(function (s) { return [index.group[+s.getAttribute("data-breakdown")], +s.value]; });
    matches = [];
    index.ids.forEach(function (id, position) {
      var correct = isCorrect(position);
      for (var i = 0; i < groupFilters.length; i++) {
        if (groupFilters[i][0][position] !== groupFilters[i][1]) return;
      }
      if (gold !== "" && index.gold[position] !== +gold) return;
      if (status !== "" && index.status[position] !== +status) return;
      if (outcome === "correct" && !correct) return;
      if (outcome === "wrong" && correct) return;
      if (needle && String(id).toLowerCase().indexOf(needle) < 0) return;
      if (other) {
        // Rows both judged whose verdicts differ; a missing verdict differs from any verdict.
        if (!Object.prototype.hasOwnProperty.call(other, id)) return;
        if (other[id] === verdictLabel(index, position)) return;
      }
      matches.push(position);
    });
    page = 0;
    render();
  }

  function textBlock(label, text) {
    var block = el("div", "field");
    block.appendChild(el("span", "field-name", label));
    var value = text === null || text === undefined ? "" : String(text);
    if (value.length > LONG) {
      var details = el("details");
      details.appendChild(el("summary", "preview", value.slice(0, 240) + "…"));
      details.appendChild(el("p", "text", value));
      block.appendChild(details);
    } else {
      block.appendChild(el("p", "text", value));
    }
    return block;
  }

  function verdictLabel(data, position) {
    return data.verdict[position] >= 0 ? data.labels[data.verdict[position]] : null;
  }
  function isCorrect(position) {
    return index.verdict[position] >= 0 && index.verdict[position] === index.gold[position];
  }

  function card(position, texts, reply) {
    var id = index.ids[position];
    var verdict = verdictLabel(index, position);
    var status = index.statuses[index.status[position]];
    var correct = isCorrect(position);
    var item = el("li", "judgment " + (correct ? "correct" : "wrong"));
    item.setAttribute("data-id", id);
    var head = el("div", "judgment-head");
    head.appendChild(el("code", "row-id", id));
    index.breakdowns.forEach(function (breakdown, i) {
      var tag = el("span", "tag group", breakdown.groups[index.group[i][position]] || "–");
      tag.title = breakdown.name;
      head.appendChild(tag);
    });
    head.appendChild(el("span", "tag gold", "gold " + index.labels[index.gold[position]]));
    head.appendChild(el("span", "tag verdict " + (correct ? "ok" : "bad"),
                        verdict !== null ? "verdict " + verdict : "no verdict"));
    if (status !== "ok") head.appendChild(el("span", "tag status", status));
    var compare = el("a", "compare", "every judge on this row →");
    compare.href = rowView + "?id=" + encodeURIComponent(id);
    head.appendChild(compare);
    head.appendChild(el("span", "outcome", correct ? "correct" : "wrong"));
    item.appendChild(head);
    var order = ["question", "answer", "passage"];
    var names = Object.keys(texts || {}).sort(function (a, b) {
      var ia = order.indexOf(a), ib = order.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : a > b ? 1 : 0);
    });
    names.forEach(function (name) { item.appendChild(textBlock(name, texts[name])); });
    var reasoning = reply[0], raw = reply[1], error = reply[2];
    var judge = el("div", "reply");
    if (reasoning) judge.appendChild(textBlock("judge's reasoning", reasoning));
    if (raw !== null && raw !== undefined) judge.appendChild(textBlock("raw reply", raw));
    if (error) judge.appendChild(textBlock("error", error));
    if (!reasoning && (raw === null || raw === undefined) && !error) judge.appendChild(textBlock("reply", "(empty)"));
    item.appendChild(judge);
    return item;
  }

  function render() {
    var mine = ++generation;
    list.removeAttribute("data-page"); // set again once this page's rows are in place
    list.setAttribute("aria-busy", "true");
    var pages = Math.max(1, Math.ceil(matches.length / PAGE));
    page = Math.min(page, pages - 1);
    var shown = matches.slice(page * PAGE, page * PAGE + PAGE);
    countLine.textContent = matches.length
      ? (page * PAGE + 1) + "–" + (page * PAGE + shown.length) + " of " + matches.length.toLocaleString("en-US") + " rows (page " + (page + 1) + " of " + pages + ")"
      : "no rows match";
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    var wanted = {};
    shown.forEach(function (position) {
      wanted[textShard(position)] = true;
      wanted[replyShard(position)] = true;
    });
    var keys = Object.keys(wanted);
    Promise.all(keys.map(function (key) { return halubenchData.load(base, key); })).then(function (values) {
      if (mine !== generation) return; // a newer filter or page replaced this one
      var shards = {};
      keys.forEach(function (key, i) { shards[key] = values[i]; });
      list.replaceChildren();
      shown.forEach(function (position) {
        var textAt = index.text[position] % index.textShardRows;
        var replyAt = position % index.replyShardRows;
        list.appendChild(card(position, shards[textShard(position)][textAt], shards[replyShard(position)][replyAt]));
      });
      list.setAttribute("data-page", String(page));
      list.setAttribute("aria-busy", "false");
    }, function (error) {
      countLine.textContent = error.message;
    });
  }

  function pad(n) { return ("0000" + n).slice(-5); }
  function textShard(position) {
    return index.texts + "/" + pad(Math.floor(index.text[position] / index.textShardRows));
  }
  function replyShard(position) { return runKey + "/r" + pad(Math.floor(position / index.replyShardRows)); }

  function chooseOther() {
    var key = form.elements.disagree.value;
    if (!key) { other = null; applyFilters(); return; }
    openIndex(key).then(function (data) {
      if (form.elements.disagree.value !== key) return; // changed again meanwhile
      other = {};
      data.ids.forEach(function (id, position) { other[id] = verdictLabel(data, position); });
      applyFilters();
    }, function (error) { countLine.textContent = error.message; });
  }

  // The task's other judges, for "disagrees with" (a task-wide list: a judge added leaves this page alone).
  function addJudges(judges) {
    var select = form.elements.disagree;
    judges.forEach(function (judge) {
      if (judge.key === runKey) return;
      var option = el("option", null, judge.name);
      option.value = judge.key + "/index";
      select.appendChild(option);
    });
    if (select.options.length > 1) select.parentNode.hidden = false;
  }

  form.addEventListener("change", function (event) {
    // The id box filters as one types; its change on blur would re-render under a click on a row's link.
    if (event.target.name === "id") return;
    if (event.target.name === "disagree") chooseOther(); else applyFilters();
  });
  form.elements.id.addEventListener("input", applyFilters);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  prev.addEventListener("click", function () { page -= 1; render(); });
  next.addEventListener("click", function () { page += 1; render(); });

  Promise.all([openIndex(root.getAttribute("data-index")),
               halubenchData.load(base, root.getAttribute("data-judges"))]).then(function (loaded) {
    index = loaded[0];
    addBreakdownFilters();
    fillSelect(form.elements.gold, index.labels);
    fillSelect(form.elements.status, index.statuses);
    addJudges(loaded[1]);
    applyFilters();
  }, function (error) {
    countLine.textContent = error.message;
  });
})();
