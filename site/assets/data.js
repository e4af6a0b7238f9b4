// Data loader shared by the explorer and the row view. Data files call halubenchData.put(key, value);
// they are added as <script> tags on demand (fetch() of local files is refused under file://).
"use strict";

window.halubenchData = (function () {
  var store = {}, waiting = {};
  return {
    put: function (key, value) {
      store[key] = value;
      (waiting[key] || []).forEach(function (done) { done.resolve(value); });
      delete waiting[key];
    },
    load: function (base, key) {
      if (Object.prototype.hasOwnProperty.call(store, key)) return Promise.resolve(store[key]);
      return new Promise(function (resolve, reject) {
        var first = !waiting[key];
        (waiting[key] = waiting[key] || []).push({ resolve: resolve, reject: reject });
        if (!first) return;
        var script = document.createElement("script");
        script.src = base + key + ".js";
        script.onerror = function () {
          (waiting[key] || []).forEach(function (done) { done.reject(new Error("cannot load " + script.src)); });
          delete waiting[key];
        };
        document.body.appendChild(script);
      });
    }
  };
})();
