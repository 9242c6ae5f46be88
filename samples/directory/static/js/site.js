// Campus directory sample: client-side filter for the people table.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("filter");
    var table = document.getElementById("people");
    if (!input || !table) return;
    var rows = table.tBodies[0].rows;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      for (var i = 0; i < rows.length; i++) {
        var match = !q || rows[i].textContent.toLowerCase().indexOf(q) !== -1;
        rows[i].classList.toggle("hidden", !match);
      }
    });
  });
})();
