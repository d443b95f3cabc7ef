// HAB's own script. The Content-Security-Policy allows no inline script or handler,
// so behaviour that templates would write as on...= attributes lives here.
(function () {
  "use strict";
  // <select data-autosubmit>: submit the form when the choice changes (the clinic switcher).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      if (target.form.requestSubmit) {
        target.form.requestSubmit();
      } else {
        target.form.submit();
      }
    }
  });
})();
