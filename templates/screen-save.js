(function () {
  "use strict";
  // The screen edition's answers: saved as one small file by the browser itself, read
  // back by `handouts harvest`. Nothing is sent anywhere and nothing is kept in the
  // browser: the file the client saves is the only copy.
  var bar = document.getElementById("save");
  var say = function (text) { document.getElementById("save-status").textContent = text; };
  var prefilled = /\.(names|week-of)$/;
  var dirty = false;
  var fields = function () {
    return Array.prototype.filter.call(
      document.querySelectorAll("main input[name], main textarea[name]"),
      function (el) { return !prefilled.test(el.name); });
  };
  document.querySelector("main").addEventListener("input", function () { dirty = true; });
  document.getElementById("save-answers").addEventListener("click", function () {
    var answers = {};
    fields().forEach(function (el) {
      answers[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    var text = JSON.stringify({format: "handouts-answers", version: 1,
                               form_schema: bar.dataset.schema, handout: bar.dataset.handout,
                               fields: answers}, null, 1);
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], {type: "application/json"}));
    link.download = bar.dataset.file;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
    dirty = false;
    say(bar.dataset.saved.replace("{file}", bar.dataset.file));
  });
  document.getElementById("load-answers").addEventListener("change", function (event) {
    var file = event.target.files[0];
    event.target.value = "";
    if (!file) { return; }
    if (file.size > 2000000) { say(bar.dataset.wrong); return; }
    file.text().then(function (text) {
      var data = JSON.parse(text);
      if (!data || data.format !== "handouts-answers" || data.handout !== bar.dataset.handout
          || typeof data.fields !== "object" || data.fields === null) {
        throw new Error("not this handout's answers");
      }
      var byName = Object.create(null);
      fields().forEach(function (el) { byName[el.name] = el; });
      Object.keys(data.fields).forEach(function (name) {
        var el = byName[name], value = data.fields[name];
        if (!el) { return; }
        if (el.type === "checkbox") { el.checked = value === true; }
        else if (typeof value === "string") { el.value = value; }
      });
      say(bar.dataset.loaded);
    }).catch(function () { say(bar.dataset.wrong); });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
})();
