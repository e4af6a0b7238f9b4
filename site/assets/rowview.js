// Row view: one row of a task (?id=...) with every judge's verdict and reasoning side by side.
// Data via data.js; everything from the data goes through textContent (untrusted text).
"use strict";

(function () {
  var root = document.getElementById("rowview");
  var base = root.getAttribute("data-base");
  var site = root.getAttribute("data-root");
  var form = document.getElementById("pick");
  var status = document.getElementById("status");
  var texts = document.getElementById("texts");
  var list = document.getElementById("verdicts");
  // The task's rows: ids, and packed columns gold and text (position in the task's texts); per run (in
  // data.runs' order): at (the row's place in the run's reply shards, -1: not judged; null: the run's rows
  // are the task's, in order), verdict (-1: none) and status. unpack turns the columns into typed arrays.
  function unpack(data) {
    var column = halubenchData.column;
    return {
      runs: data.runs, labels: data.labels, statuses: data.statuses, ids: data.ids, gold: column(data.gold),
      text: column(data.text), verdict: data.verdict.map(column), status: data.status.map(column),
      at: data.at.map(function (packed) { return packed === null ? null : column(packed); }),
      texts: data.texts, textShardRows: data.textShardRows, replyShardRows: data.replyShardRows
    };
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function pad(n) { return ("0000" + n).slice(-5); }
  function block(label, text) {
    var node = el("div", "field");
    node.appendChild(el("span", "field-name", label));
    node.appendChild(el("p", "text", text));
    return node;
  }

  function place(data, j, row) { return data.at[j] === null ? row : data.at[j][row]; }

  function show(data, row, textShard, replies) {
    var id = data.ids[row], gold = data.labels[data.gold[row]];
    texts.replaceChildren();
    var head = el("p", "row-head");
    head.appendChild(el("code", "row-id", id));
    head.appendChild(el("span", "tag gold", "gold " + gold));
    texts.appendChild(head);
    var fields = textShard[data.text[row] % data.textShardRows] || {};
    var order = ["question", "answer", "passage"];
    Object.keys(fields).sort(function (a, b) {
      var ia = order.indexOf(a), ib = order.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : a > b ? 1 : 0);
    }).forEach(function (name) { texts.appendChild(block(name, fields[name])); });
    list.replaceChildren();
    data.runs.forEach(function (run, j) {
      var position = place(data, j, row);
      if (position < 0) return;
      var verdict = data.verdict[j][row] >= 0 ? data.labels[data.verdict[j][row]] : null;
      var state = data.statuses[data.status[j][row]];
      var right = verdict === gold;
      var item = el("li", "judgment " + (right ? "correct" : "wrong"));
      item.setAttribute("data-judge", run.name);
      var top = el("div", "judgment-head");
      var name = el("a", "judge-name", run.name);
      name.href = site + run.href;
      top.appendChild(name);
      top.appendChild(el("span", "tag verdict " + (right ? "ok" : "bad"), verdict ? "verdict " + verdict : "no verdict"));
      if (state !== "ok") top.appendChild(el("span", "tag status", state));
      item.appendChild(top);
      var reply = replies[j][position % data.replyShardRows];
      if (reply[0]) item.appendChild(block("reasoning", reply[0]));
      if (reply[1] !== null && reply[1] !== undefined) item.appendChild(block("raw reply", reply[1]));
      if (reply[2]) item.appendChild(block("error", reply[2]));
      list.appendChild(item);
    });
    status.textContent = list.children.length + " judges on row " + id;
    root.setAttribute("data-shown", id);
  }

  function open(id) {
    halubenchData.load(base, root.getAttribute("data-rows")).then(unpack).then(function (data) {
      var row = data.ids.indexOf(id);
      if (row < 0) { status.textContent = "no row with id " + id; root.setAttribute("data-shown", ""); return; }
      var keys = [data.texts + "/" + pad(Math.floor(data.text[row] / data.textShardRows))];
      data.runs.forEach(function (run, j) {
        var position = place(data, j, row);
        keys.push(position < 0 ? null : run.key + "/r" + pad(Math.floor(position / data.replyShardRows)));
      });
      return Promise.all(keys.map(function (key) { return key ? halubenchData.load(base, key) : null; }))
        .then(function (values) { show(data, row, values[0], values.slice(1)); });
    }).catch(function (error) { status.textContent = error.message; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var id = form.elements.id.value.trim();
    if (id) window.location.search = "?id=" + encodeURIComponent(id);
  });
  var wanted = new URLSearchParams(window.location.search).get("id");
  if (wanted) {
    form.elements.id.value = wanted;
    open(wanted);
  } else {
    status.textContent = "type a row id (the explorer links every row here)";
  }
})();
