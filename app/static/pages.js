// Small progressive enhancements, served from our own origin so the pages' CSP can forbid inline scripts.
(function () {
  // A product image that fails to load leaves the lettered placeholder underneath instead of a broken icon.
  document.querySelectorAll("img[data-fallback]").forEach(function (img) {
    function drop() { img.remove(); }
    if (img.complete && img.naturalWidth === 0) { drop(); } else { img.addEventListener("error", drop); }
  });
  // A colour picker keeps its text field (the value that is submitted) in step.
  document.querySelectorAll("input[type=color][data-mirror]").forEach(function (picker) {
    var field = document.getElementById(picker.dataset.mirror);
    picker.addEventListener("input", function () { field.value = picker.value; });
  });
})();
