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

  // A tablet's hardware keyboard: "/" (outside a text field) or Ctrl+K / Cmd+K (anywhere)
  // puts the cursor in the page's search box marked data-search-shortcut (the dosing
  // board's "Find patient"), its text selected so typing replaces the last search.
  function typing(element) {
    if (!element || !(element instanceof HTMLElement)) {
      return false;
    }
    if (element.isContentEditable || element instanceof HTMLTextAreaElement || element instanceof HTMLSelectElement) {
      return true;
    }
    if (element instanceof HTMLInputElement) {
      return ["checkbox", "radio", "button", "submit", "reset", "range", "color", "file", "image"].indexOf(element.type) < 0;
    }
    return false;
  }
  document.addEventListener("keydown", function (event) {
    var box = document.querySelector("[data-search-shortcut]");
    if (!box || event.defaultPrevented || event.altKey) {
      return;
    }
    var commandK = (event.ctrlKey || event.metaKey) && !event.shiftKey && (event.key === "k" || event.key === "K");
    var slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !typing(document.activeElement);
    if (commandK || slash) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
})();
